//! PP-OCRv5 (mobile) through ONNX Runtime: text detection (DB) and recognition (CTC), written
//! here rather than taken from `paddle-ocr-rs` (0.3.4 pins ort 2.0.0-rc.9 and builds
//! `imageproc`, `image`, `ndarray` and the C++ `clipper-sys`); phone screenshots are upright,
//! so axis-aligned boxes suffice and no polygon clipper is needed.
//!
//! Runs only inside `kotae ocr-worker`: a crash or a memory spike here ends that process, not
//! the bot. Pre- and post-processing follow PaddleOCR's defaults (BGR input, ImageNet
//! normalisation for detection, longest side at most 960, threshold 0.3, box score 0.5, unclip 1.5;
//! recognition at height 48, batches of 6 sorted by width, drop under 0.5).

use std::time::Instant;

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::raster::{self, Rgb};
use super::{Limits, LineRole, ModelPaths, OcrError, OcrLine, OcrText};

const DET_MAX_SIDE: u32 = 960;
const DET_THRESH: f32 = 0.3;
const DET_BOX_THRESH: f32 = 0.5;
const DET_UNCLIP: f32 = 1.5;
const DET_MIN_SIDE: u32 = 3;
const REC_HEIGHT: u32 = 48;
const REC_MIN_WIDTH: u32 = 320;
/// A box wider than 40 heights (a whole banner) is squeezed rather than given a huge tensor.
const REC_MAX_WIDTH: u32 = REC_HEIGHT * 40;
const REC_BATCH: usize = 6;
const REC_DROP: f32 = 0.5;

fn failed(what: &str, e: impl std::fmt::Display) -> OcrError {
    OcrError::Failed(format!("{what}: {e}"))
}

pub struct Engine {
    // Sessions borrow nothing from it, but it must outlive them.
    _env: Environment,
    det: Session,
    rec: Session,
    /// Index 0 is the CTC blank and the last entry a space: the model's classes are the
    /// dictionary's lines with those two added, or every character comes out off by one.
    dict: Vec<String>,
    limits: Limits,
}

impl Engine {
    /// Loads the runtime library and both models. `threads` is ONNX Runtime's intra-op pool.
    pub fn load(paths: &ModelPaths, threads: usize, limits: Limits) -> Result<Self, OcrError> {
        paths.check()?;
        let env = ort::init_from(&paths.runtime)
            .map_err(|e| {
                OcrError::Unavailable(format!(
                    "cannot load the ONNX Runtime library {}: {e}",
                    paths.runtime.display()
                ))
            })?
            .with_name("kotae-ocr")
            .build()
            .map_err(|e| failed("ONNX Runtime environment", e))?;
        let session = |path: &std::path::Path| -> Result<Session, OcrError> {
            Session::builder(&env)
                .map_err(|e| failed("session builder", e))?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(|e| failed("session options", e))?
                .with_intra_threads(threads.max(1))
                .map_err(|e| failed("session options", e))?
                .with_inter_threads(1)
                .map_err(|e| failed("session options", e))?
                .commit_from_file(path)
                .map_err(|e| failed(&format!("loading {}", path.display()), e))
        };
        let det = session(&paths.det)?;
        let rec = session(&paths.rec)?;
        let dict_text = std::fs::read_to_string(&paths.dict)
            .map_err(|e| failed(&format!("reading {}", paths.dict.display()), e))?;
        let mut dict = vec![String::new()];
        dict.extend(
            dict_text
                .lines()
                .map(|l| l.trim_end_matches('\r').to_string()),
        );
        dict.push(" ".into());
        Ok(Engine {
            _env: env,
            det,
            rec,
            dict,
            limits,
        })
    }

    /// Checks, decodes and reads one image.
    pub fn read(&mut self, bytes: &[u8]) -> Result<OcrText, OcrError> {
        let started = Instant::now();
        let info = self.limits.check(bytes)?;
        let image = raster::decode(bytes, info.format, &self.limits)?;
        let boxes = self.detect(&image)?;
        let lines = self.recognize(&image, &boxes)?;
        Ok(OcrText::new(
            image.width,
            image.height,
            lines,
            started.elapsed().as_millis() as u64,
        ))
    }

    fn detect(&mut self, image: &Rgb) -> Result<Vec<Rect>, OcrError> {
        let (w, h) = (image.width, image.height);
        // Only ever shrunk: enlarging a half-size screenshot to 960 was tried and read its
        // 14 px text worse (dropped small kana).
        let ratio = (DET_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
        let round32 = |v: u32| (((v as f32 * ratio) / 32.0).round() as u32 * 32).max(32);
        let (dw, dh) = (round32(w), round32(h));
        let resized = image.resize(dw, dh);
        let mean = [0.485f32, 0.456, 0.406];
        let std = [0.229f32, 0.224, 0.225];
        let plane = (dw * dh) as usize;
        let mut input = vec![0f32; 3 * plane];
        for (i, p) in resized.data.chunks_exact(3).enumerate() {
            // BGR, as PaddleOCR reads images with OpenCV.
            for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                input[c * plane + i] = (v as f32 / 255.0 - mean[c]) / std[c];
            }
        }
        let tensor = Tensor::from_array(([1usize, 3, dh as usize, dw as usize], input))
            .map_err(|e| failed("detection input", e))?;
        let outputs = self
            .det
            .run(ort::inputs![tensor])
            .map_err(|e| failed("detection", e))?;
        let (shape, prob) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| failed("detection output", e))?;
        let (ph, pw) = match &shape[..] {
            [1, 1, ph, pw] => (*ph as usize, *pw as usize),
            other => return Err(failed("detection output", format!("shape {other:?}"))),
        };
        let boxes = db_boxes(prob, pw, ph);
        let (sx, sy) = (w as f32 / pw as f32, h as f32 / ph as f32);
        Ok(boxes
            .into_iter()
            .filter_map(|b| {
                let x0 = (b.x0 * sx).max(0.0) as u32;
                let y0 = (b.y0 * sy).max(0.0) as u32;
                let x1 = ((b.x1 * sx).ceil() as u32).min(w);
                let y1 = ((b.y1 * sy).ceil() as u32).min(h);
                (x1 > x0 + 1 && y1 > y0 + 1).then_some(Rect { x0, y0, x1, y1 })
            })
            .collect())
    }

    fn recognize(&mut self, image: &Rgb, boxes: &[Rect]) -> Result<Vec<OcrLine>, OcrError> {
        let mut order: Vec<usize> = (0..boxes.len()).collect();
        order.sort_by(|&a, &b| boxes[a].ratio().total_cmp(&boxes[b].ratio()));
        let mut lines = Vec::new();
        for batch in order.chunks(REC_BATCH) {
            let max_ratio = batch
                .iter()
                .map(|&i| boxes[i].ratio())
                .fold(REC_MIN_WIDTH as f32 / REC_HEIGHT as f32, f32::max);
            let width = ((REC_HEIGHT as f32 * max_ratio).ceil() as u32).min(REC_MAX_WIDTH);
            let (hh, ww) = (REC_HEIGHT as usize, width as usize);
            let plane = hh * ww;
            let mut input = vec![0f32; batch.len() * 3 * plane];
            for (n, &i) in batch.iter().enumerate() {
                let r = boxes[i];
                let rw = ((REC_HEIGHT as f32 * r.ratio()).ceil() as u32).clamp(1, width);
                let resized =
                    image.resize_region(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0, rw, REC_HEIGHT);
                let base = n * 3 * plane;
                for (k, p) in resized.data.chunks_exact(3).enumerate() {
                    let (x, y) = (k % rw as usize, k / rw as usize);
                    let at = y * ww + x;
                    for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                        input[base + c * plane + at] = (v as f32 / 255.0 - 0.5) / 0.5;
                    }
                }
            }
            let tensor = Tensor::from_array(([batch.len(), 3, hh, ww], input))
                .map_err(|e| failed("recognition input", e))?;
            let outputs = self
                .rec
                .run(ort::inputs![tensor])
                .map_err(|e| failed("recognition", e))?;
            let (shape, probs) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| failed("recognition output", e))?;
            let (steps, classes) = match &shape[..] {
                [_, t, c] => (*t as usize, *c as usize),
                other => return Err(failed("recognition output", format!("shape {other:?}"))),
            };
            if classes != self.dict.len() {
                return Err(failed(
                    "recognition",
                    format!(
                        "the model has {classes} classes but the dictionary gives {} (blank + \
                         lines + space); wrong dictionary file?",
                        self.dict.len()
                    ),
                ));
            }
            for (n, &i) in batch.iter().enumerate() {
                let row = &probs[n * steps * classes..(n + 1) * steps * classes];
                let (text, score) = ctc_decode(row, classes, &self.dict);
                let text = text.trim().to_string();
                if text.is_empty() || score < REC_DROP {
                    continue;
                }
                let r = boxes[i];
                lines.push(OcrLine {
                    text,
                    x: r.x0,
                    y: r.y0,
                    w: r.x1 - r.x0,
                    h: r.y1 - r.y0,
                    score,
                    role: LineRole::Message,
                });
            }
        }
        Ok(lines)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Rect {
    fn ratio(&self) -> f32 {
        (self.x1 - self.x0) as f32 / (self.y1 - self.y0).max(1) as f32
    }
}

/// A box on the probability map, before scaling back to the image.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MapBox {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

/// DB post-processing with axis-aligned boxes: threshold the probability map, take each
/// 4-connected region, keep those whose mean probability passes the box threshold, and grow
/// them by the unclip distance (area × ratio / perimeter), as the shrunk training targets
/// require.
fn db_boxes(prob: &[f32], w: usize, h: usize) -> Vec<MapBox> {
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut boxes = Vec::new();
    for start in 0..w * h {
        if seen[start] || prob[start] <= DET_THRESH {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        let (mut n, mut sum) = (0usize, 0f32);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            n += 1;
            sum += prob[i];
            let mut visit = |j: usize| {
                if !seen[j] && prob[j] > DET_THRESH {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        if (bw.min(bh) as u32) < DET_MIN_SIDE || sum / (n as f32) < DET_BOX_THRESH {
            continue;
        }
        let d = bw * bh * DET_UNCLIP / (2.0 * (bw + bh));
        boxes.push(MapBox {
            x0: x0 as f32 - d,
            y0: y0 as f32 - d,
            x1: x1 as f32 + 1.0 + d,
            y1: y1 as f32 + 1.0 + d,
        });
    }
    boxes
}

/// Greedy CTC: the best class per step, repeats merged, blanks dropped; the score is the
/// mean probability of the kept steps.
fn ctc_decode(row: &[f32], classes: usize, dict: &[String]) -> (String, f32) {
    let mut text = String::new();
    let (mut prev, mut sum, mut n) = (0usize, 0f32, 0usize);
    for step in row.chunks_exact(classes) {
        let (best, p) =
            step.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
            );
        if best != 0 && best != prev {
            if let Some(s) = dict.get(best) {
                text.push_str(s);
                sum += p;
                n += 1;
            }
        }
        prev = best;
    }
    (text, if n == 0 { 0.0 } else { sum / n as f32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let dict: Vec<String> = ["", "a", "b", " "].iter().map(|s| s.to_string()).collect();
        // Steps: a, a, blank, a, b, b
        let one_hot = |i: usize| {
            let mut v = vec![0.0; 4];
            v[i] = 1.0;
            v
        };
        let row: Vec<f32> = [1, 1, 0, 1, 2, 2]
            .iter()
            .flat_map(|&i| one_hot(i))
            .collect();
        assert_eq!(ctc_decode(&row, 4, &dict), ("aab".to_string(), 1.0));
    }

    #[test]
    fn db_finds_and_grows_a_region() {
        let (w, h) = (20, 10);
        let mut prob = vec![0.0; w * h];
        for y in 3..7 {
            for x in 2..15 {
                prob[y * w + x] = 0.9;
            }
        }
        // A speck below the minimum side is dropped.
        prob[9 * w + 19] = 0.9;
        let boxes = db_boxes(&prob, w, h);
        assert_eq!(boxes.len(), 1);
        let b = boxes[0];
        assert!(
            b.x0 < 2.0 && b.x1 > 15.0 && b.y0 < 3.0 && b.y1 > 7.0,
            "{b:?}"
        );
    }
}
