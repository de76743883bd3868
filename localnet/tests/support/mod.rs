//! What the process tests of this crate share: finding a run's processes from outside.

use std::fs;

/// Live processes whose command line names `needles`: `(pid, command line)`.
pub fn processes_naming(needles: &[String]) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").expect("/proc").filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        let zombie = fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        if !zombie && needles.iter().any(|n| cmdline.contains(n.as_str())) {
            found.push((pid, cmdline));
        }
    }
    found
}
