//! Finding and deleting blobs that nothing owns (orphans).
//!
//! Every failure a running gateway sees cleans up after itself (see
//! [`crate::media_store`]), but a process killed mid-upload, between storing
//! a file and inserting its job, or half-way through deleting a job cannot.
//! What it leaves behind is always the same shape: keys `blob:<id>:…` of a
//! blob that no job row references and whose in-progress marker is missing
//! or older than `upload_stale_secs`.
//!
//! The order of reads is what makes a concurrent upload safe: markers are
//! read *before* the job table. A blob whose marker was already gone when we
//! looked was settled earlier, i.e. its job row was written before we read
//! the table, so the table shows the reference.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use serde::Serialize;

use crate::media_store::{marker_time, Kv};

/// What a sweep found (and, unless it was a dry run, deleted).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Blobs nothing owns.
    pub orphaned_blobs: Vec<String>,
    /// Their keys (chunks, manifests, markers).
    pub orphaned_keys: usize,
    /// Unreferenced blobs with a fresh marker: uploads still running.
    pub uploads_in_progress: usize,
    /// Markers left on blobs that a job does own (the writer died after
    /// the row was written); removed unless a dry run.
    pub stale_markers: usize,
    /// Whether anything was deleted.
    pub dry_run: bool,
}

/// The blob a media key belongs to, and the key's last part.
fn blob_of(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("blob:")?.rsplit_once(':')
}

/// Sweeps key-value `media`: blobs not in `referenced()` whose marker is
/// absent or older than `stale_after_secs` at `now` are orphans.
///
/// # Errors
/// When a store fails; a sweep stopped half-way is safe to run again.
pub fn sweep<K: Kv + ?Sized>(
    kv: &K,
    referenced: impl FnOnce() -> Result<HashSet<String>>,
    now: u64,
    stale_after_secs: u64,
    dry_run: bool,
) -> Result<SweepReport> {
    let mut blobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in kv.keys()? {
        if let Some((blob, _)) = blob_of(&key) {
            blobs.entry(blob.to_owned()).or_default().push(key);
        }
    }
    // Markers first, then the table (see the module docs).
    let mut fresh = HashSet::new();
    let mut marked = HashSet::new();
    for (blob, keys) in &blobs {
        if !keys.iter().any(|key| key.ends_with(":pending")) {
            continue;
        }
        if let Some(touched) = marker_time(kv, blob)? {
            marked.insert(blob.clone());
            if now < touched.saturating_add(stale_after_secs) {
                fresh.insert(blob.clone());
            }
        }
    }
    let owned = referenced()?;

    let mut report = SweepReport {
        dry_run,
        ..SweepReport::default()
    };
    for (blob, mut keys) in blobs {
        if owned.contains(&blob) {
            if marked.contains(&blob) && !fresh.contains(&blob) {
                report.stale_markers += 1;
                if !dry_run {
                    crate::media_store::settle(kv, &blob);
                }
            }
            continue;
        }
        if fresh.contains(&blob) {
            report.uploads_in_progress += 1;
            continue;
        }
        report.orphaned_keys += keys.len();
        if !dry_run {
            // The marker goes last, so an interrupted sweep leaves a blob
            // that is still recognisably abandoned.
            keys.sort_by_key(|key| key.ends_with(":pending"));
            for key in &keys {
                kv.delete(key)?;
            }
        }
        report.orphaned_blobs.push(blob);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_store::tests::MemoryKv;
    use crate::media_store::{manifest, pending_key, settle, BlobWriter, CHUNK_SIZE};

    const STALE: u64 = 600;

    fn owned(blobs: &[&str]) -> impl FnOnce() -> Result<HashSet<String>> {
        let set: HashSet<String> = blobs.iter().map(|b| (*b).to_owned()).collect();
        move || Ok(set)
    }

    fn keys_of(kv: &MemoryKv, blob: &str) -> usize {
        let prefix = format!("blob:{blob}:");
        kv.0.borrow()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .count()
    }

    /// A writer that died after two chunks: what a killed host leaves.
    fn abandoned_upload(kv: &MemoryKv, blob: &str) {
        let mut writer = BlobWriter::new(kv, blob, u64::MAX);
        writer.write(&vec![7; CHUNK_SIZE * 2 + 10]).unwrap();
        std::mem::forget(writer);
    }

    fn committed(kv: &MemoryKv, blob: &str) {
        let mut writer = BlobWriter::new(kv, blob, u64::MAX);
        writer.write(&vec![1; CHUNK_SIZE + 1]).unwrap();
        writer.commit("video/mp4", "a.mp4").unwrap();
    }

    fn now() -> u64 {
        crate::media_store::unix_now()
    }

    #[test]
    fn a_running_upload_is_left_alone_until_its_marker_goes_stale() {
        let kv = MemoryKv::default();
        abandoned_upload(&kv, "in-a");
        assert_eq!(keys_of(&kv, "in-a"), 3, "two chunks and the marker");

        let report = sweep(&kv, owned(&[]), now(), STALE, false).unwrap();
        assert_eq!(report.uploads_in_progress, 1);
        assert!(report.orphaned_blobs.is_empty());
        assert_eq!(keys_of(&kv, "in-a"), 3);

        let later = now() + STALE + 1;
        let report = sweep(&kv, owned(&[]), later, STALE, false).unwrap();
        assert_eq!(report.orphaned_blobs, vec!["in-a".to_owned()]);
        assert_eq!(report.orphaned_keys, 3);
        assert_eq!(keys_of(&kv, "in-a"), 0);
    }

    #[test]
    fn a_dry_run_reports_without_deleting() {
        let kv = MemoryKv::default();
        abandoned_upload(&kv, "in-a");
        let report = sweep(&kv, owned(&[]), now() + STALE, STALE, true).unwrap();
        assert_eq!(report.orphaned_blobs.len(), 1);
        assert!(report.dry_run);
        assert_eq!(keys_of(&kv, "in-a"), 3);
    }

    #[test]
    fn owned_blobs_stay_and_lose_only_a_stale_marker() {
        let kv = MemoryKv::default();
        committed(&kv, "in-owned");
        // The row was written but the host died before settling.
        assert!(kv.0.borrow().contains_key(&pending_key("in-owned")));
        let report = sweep(&kv, owned(&["in-owned"]), now() + STALE, STALE, false).unwrap();
        assert!(report.orphaned_blobs.is_empty());
        assert_eq!(report.stale_markers, 1);
        assert!(!kv.0.borrow().contains_key(&pending_key("in-owned")));
        assert!(manifest(&kv, "in-owned").unwrap().is_some());
        assert_eq!(keys_of(&kv, "in-owned"), 3, "two chunks and the manifest");
    }

    #[test]
    fn a_committed_blob_without_a_job_or_marker_is_an_orphan() {
        let kv = MemoryKv::default();
        committed(&kv, "out-x");
        settle(&kv, "out-x"); // e.g. replaced by a newer output, delete interrupted
        committed(&kv, "in-kept");
        settle(&kv, "in-kept");
        let report = sweep(&kv, owned(&["in-kept"]), now(), STALE, false).unwrap();
        assert_eq!(report.orphaned_blobs, vec!["out-x".to_owned()]);
        assert_eq!(keys_of(&kv, "out-x"), 0);
        assert_eq!(keys_of(&kv, "in-kept"), 3);
    }

    #[test]
    fn a_writer_that_fails_cleanly_leaves_nothing_to_sweep() {
        let kv = MemoryKv::default();
        {
            let mut writer = BlobWriter::new(&kv, "in-gone", u64::MAX);
            writer.write(&vec![3; CHUNK_SIZE * 3]).unwrap();
        }
        assert!(kv.0.borrow().is_empty(), "{:?}", kv.0.borrow().keys());
    }

    #[test]
    fn keys_outside_the_blob_namespace_are_ignored() {
        let kv = MemoryKv::default();
        kv.set("something-else", b"x").unwrap();
        let report = sweep(&kv, owned(&[]), now(), STALE, false).unwrap();
        assert_eq!(report, SweepReport::default());
        assert!(kv.0.borrow().contains_key("something-else"));
    }
}
