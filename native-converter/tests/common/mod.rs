//! Inputs shared by more than one test binary of the converter.

/// The fuzzer's 81-byte Matroska file (docs/fuzzing.md bug 4): its
/// MuxingApp string claims 25.9 GB, which symphonia 0.5 allocated up front
/// and aborted on, until the decoder checked Matroska sizes first.
pub fn mkv_claiming_gigabytes() -> Vec<u8> {
    const HEX: &str = concat!(
        "1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61428781044285810218538067",
        "01000000000000000000001549a966ffbf8475b52b3e2ad7b1830f42404d800e078df2f0",
    );
    (0..HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&HEX[i..i + 2], 16).expect("hex"))
        .collect()
}
