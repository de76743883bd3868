//! Headless Chromium (Debian's `/usr/bin/chromium`, installed by scripts/setup): renders the
//! page to a DOM dump or a screenshot. Absent Chromium is a test failure, not a skip.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where scripts/setup installs Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Hang guard for one Chromium run.
const LIMIT: Duration = Duration::from_secs(180);

/// Fails the test with the fix when Chromium is not installed.
pub fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run scripts/setup (as root) to install Debian's chromium package"
    );
}

/// Runs Chromium headless with the flags this machine needs (no background networking:
/// the machine has no internet) and `extra` arguments; returns stdout.
fn run(extra: &[String]) -> String {
    require_chromium();
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let stdout = tempfile::NamedTempFile::new().expect("chromium stdout file");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=8000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .stdout(stdout.reopen().expect("reopen stdout file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromium");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for chromium") {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {LIMIT:?}: {extra:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(stdout.path()).unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}): {extra:?}\n{out}"
    );
    out
}

/// The DOM of `url` after its scripts ran.
pub fn dump_dom(url: &str) -> String {
    run(&["--dump-dom".to_string(), url.to_string()])
}

/// Saves a 1280x1180 screenshot of `url` to `path` (the whole page with three worker panels).
pub fn screenshot(url: &str, path: &Path) {
    let _ = std::fs::remove_file(path);
    run(&[
        format!("--screenshot={}", path.display()),
        "--window-size=1280,1180".to_string(),
        url.to_string(),
    ]);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0,
        "chromium wrote no screenshot at {}",
        path.display()
    );
}

/// Asserts the rendered `dom` carries `attr="name"` for every name and attribute, and every
/// extra needle.
pub fn assert_dom_shows(dom: &str, names: &[&str], attrs: &[&str], needles: &[&str]) {
    let tagged = names
        .iter()
        .flat_map(|name| attrs.iter().map(move |attr| format!("{attr}=\"{name}\"")));
    for needle in tagged.chain(needles.iter().map(|n| n.to_string())) {
        assert!(
            dom.contains(&needle),
            "{needle} missing from the rendered page"
        );
    }
}

/// Screenshots `url` into the artefact directory as `file` and prints where.
pub fn save_screenshot(url: &str, file: &str) {
    let png = super::artefact_dir().join(file);
    screenshot(url, &png);
    println!("screenshot: {}", png.display());
}
