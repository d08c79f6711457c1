//! Integration tests of the converter. Inputs are generated with ffmpeg at
//! test time (never committed); ffmpeg is also the reference decoder, and
//! these tests fail, not skip, when it is missing.

mod alignment;
mod bad_input;
mod cancel;
mod cli;
mod formats;
mod fuzz;
mod helpers;
mod output_check;
mod quality;
mod seams;
