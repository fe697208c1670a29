//! The OCR runtime and models the screenshot tests need, found once for every test binary
//! that reads screenshots (tests/ocr.rs includes this file by path; the others through
//! `support`).

/// The installed OCR runtime and models, or `None` (after saying so loudly) when the
/// developer opted out with `KOTAE_SKIP_OCR_TESTS=1`. Panics otherwise, and always under
/// `CI=true`, so CI never passes without reading a screenshot.
pub fn ocr_models() -> Option<kotae::ocr::ModelPaths> {
    let paths = kotae::ocr::ModelPaths::locate(None, |k| std::env::var(k).ok());
    match paths.check() {
        Ok(()) => Some(paths),
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            let skip = std::env::var("KOTAE_SKIP_OCR_TESTS").is_ok_and(|v| v == "1");
            if skip && !ci {
                eprintln!("SKIPPED (KOTAE_SKIP_OCR_TESTS=1): {e}");
                return None;
            }
            panic!(
                "{e}\n(run .ci/ocr-setup.sh once; outside CI, KOTAE_SKIP_OCR_TESTS=1 skips these tests)"
            );
        }
    }
}
