//! The learned chatter veto: a character n-gram model, trained on the labeled corpus by
//! `kotae train`, that keeps auto mode silent when a message the rules would answer reads
//! like ordinary chat rather than a problem report.
//!
//! Why a model beside the cue lists of [`super::intent`]: each new batch of real chat brought
//! phrasings the cues had not seen (5–25% false replies on a batch's first run), while the
//! difference between "it failed, help" and chatter that shares the words is spread over
//! many small signals (endings, particles, who is addressed) that a weighted sum of 2- and
//! 3-character n-grams learns from thousands of labeled messages. It is applied only after
//! the rules would answer, so it can only remove replies, and its threshold is set where it
//! costs the fewest reports (docs/status.md has the study).
//!
//! The model is logistic regression over n-gram counts scaled by 1/sqrt(n-grams read),
//! which keeps a long message from scoring by length alone. Only the first and last
//! [`WINDOW`] characters are read, so its cost has a ceiling: almost every message in the
//! corpus is read whole.

use std::collections::HashMap;
use std::fmt::Write as _;

use thiserror::Error;

/// The model's file in a knowledge folder: a pack without one has no veto.
pub use crate::knowledge::CHATTER_MODEL_FILE as FILE_NAME;

/// Characters read from each end of a message.
pub const WINDOW: usize = 128;
/// The model file's format version.
const FORMAT: u32 = 1;

/// A model file that cannot be read, with the line at fault.
#[derive(Debug, Error)]
#[error("chatter model line {line}: {problem}")]
pub struct ModelError {
    pub line: usize,
    pub problem: String,
}

/// The n-gram weights, hashed into a direct-mapped table: a lookup is a multiply, a shift
/// and a load, which keeps the veto inside the matcher's instruction budget. An n-gram the
/// model does not know lands on a weighted slot about 3% of the time (8,000 of 2^18 slots)
/// and reads that weight: noise the study in docs/status.md measured with it.
#[derive(Debug, Clone)]
pub struct Model {
    table: Vec<f32>,
    /// The n-grams and weights as trained, sorted by key, for [`Model::to_text`] and
    /// explanations.
    weights: Vec<(u64, f32)>,
    bias: f32,
    /// The score (log-odds of a report) under which a message is chatter.
    cut: f32,
    /// Reported in the explanation, as the probability people set in the file.
    threshold: f32,
}

/// log2 of the table's slots: 2^18 f32 is 1 MiB.
const BITS: u32 = 18;

fn slot_of(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as usize
}

/// Calls `f` with the key of every bigram and trigram in the first and last [`WINDOW`]
/// characters of `text` (whole when shorter); returns how many there were. A key packs the
/// characters 21 bits each, so different n-grams never share one.
fn grams(text: &str, mut f: impl FnMut(u64)) -> usize {
    let mut count = 0;
    let mut run = |part: &str| {
        let (mut a, mut b) = (0u64, 0u64);
        for c in part.chars() {
            let c = u64::from(c);
            if b != 0 {
                f((b << 21) | c);
                count += 1;
                if a != 0 {
                    f((a << 42) | (b << 21) | c);
                    count += 1;
                }
            }
            (a, b) = (b, c);
        }
    };
    // Bytes bound characters from above: a text this short is read whole without counting.
    if text.len() <= 2 * WINDOW {
        run(text);
        return count;
    }
    let head_end = text
        .char_indices()
        .nth(WINDOW)
        .map_or(text.len(), |(i, _)| i);
    let tail_start = text
        .char_indices()
        .rev()
        .nth(WINDOW - 1)
        .map_or(0, |(i, _)| i);
    if tail_start <= head_end {
        run(text);
    } else {
        run(&text[..head_end]);
        run(&text[tail_start..]);
    }
    count
}

fn key_text(key: u64) -> String {
    [key >> 42, (key >> 21) & 0x1F_FFFF, key & 0x1F_FFFF]
        .into_iter()
        .filter(|&c| c != 0)
        .filter_map(|c| char::from_u32(c as u32))
        .collect()
}

/// The key of a bigram or trigram as the file writes it; None for anything [`grams`] never
/// reads (a weight for it would be dead).
fn text_key(gram: &str) -> Option<u64> {
    let chars: Vec<char> = gram.chars().collect();
    if !(2..=3).contains(&chars.len()) || chars.contains(&'\0') {
        return None;
    }
    Some(chars.iter().fold(0u64, |k, &c| (k << 21) | u64::from(c)))
}

impl Model {
    fn new(weights: &[(u64, f32)], bias: f32, threshold: f32) -> Model {
        let mut table = vec![0.0f32; 1 << BITS];
        for &(key, w) in weights {
            table[slot_of(key)] += w;
        }
        let mut weights = weights.to_vec();
        weights.sort_by_key(|w| w.0);
        Model {
            table,
            weights,
            bias,
            cut: (threshold / (1.0 - threshold)).ln(),
            threshold,
        }
    }

    fn weight(&self, key: u64) -> f32 {
        self.table[slot_of(key)]
    }

    /// The log-odds that `spaced` (a message's [`crate::normalize::Normalized::spaced`]
    /// form) is a problem report.
    pub fn score(&self, spaced: &str) -> f32 {
        let mut sum = 0.0f32;
        let n = grams(spaced, |k| sum += self.weight(k));
        self.bias + sum / (n.max(1) as f32).sqrt()
    }

    /// None when `spaced` may be answered; otherwise why not, for people: the probability
    /// and the n-grams that pulled it down most.
    pub fn veto(&self, spaced: &str) -> Option<String> {
        let score = self.score(spaced);
        if score >= self.cut {
            return None;
        }
        let mut pulls: Vec<(f32, u64)> = Vec::new();
        // Only n-grams the model knows explain it (a hashed neighbour's weight does not).
        grams(spaced, |k| {
            if let Ok(i) = self.weights.binary_search_by_key(&k, |w| w.0) {
                let w = self.weights[i].1;
                if w < 0.0 && !pulls.iter().any(|p| p.1 == k) {
                    pulls.push((w, k));
                }
            }
        });
        pulls.sort_by(|a, b| a.0.total_cmp(&b.0));
        let words: Vec<String> = pulls
            .iter()
            .take(4)
            .map(|p| format!("「{}」", key_text(p.1)))
            .collect();
        let p = 1.0 / (1.0 + (-score).exp());
        Some(format!(
            "report-likeness {p:.2} < {:.2}; most chat-like: {}",
            self.threshold,
            words.join("")
        ))
    }

    /// Reads a model file (the format [`Model::to_text`] writes).
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let (mut bias, mut threshold, mut format) = (None, None, None);
        let mut weights = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let err = |problem: String| ModelError {
                line: i + 1,
                problem,
            };
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once('\t')
                .ok_or_else(|| err("expected `name<TAB>value`".into()))?;
            let number = || {
                value
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| err(format!("`{value}` is not a number")))
            };
            match (format.is_some(), name) {
                (false, "format") => {
                    let v = value.parse::<u32>().ok();
                    if v != Some(FORMAT) {
                        return Err(err(format!("format {value}; this kotae reads {FORMAT}")));
                    }
                    format = v;
                }
                (false, _) => return Err(err("the first line must be `format<TAB>1`".into())),
                (true, "bias") => bias = Some(number()?),
                (true, "threshold") => {
                    let t = number()?;
                    if !(0.0 < t && t < 1.0) {
                        return Err(err(format!("threshold {t} is not between 0 and 1")));
                    }
                    threshold = Some(t);
                }
                (true, gram) => {
                    let gram = gram.strip_prefix("gram ").ok_or_else(|| {
                        err(format!(
                            "unknown name `{gram}` (format, bias, threshold, gram …)"
                        ))
                    })?;
                    let key = text_key(gram)
                        .ok_or_else(|| err(format!("`{gram}` is not 2 or 3 characters (the model reads bigrams and trigrams)")))?;
                    weights.push((key, number()?));
                }
            }
        }
        let missing = |what: &str| ModelError {
            line: text.lines().count(),
            problem: format!("no `{what}` line"),
        };
        let bias = bias.ok_or_else(|| missing("bias"))?;
        let threshold = threshold.ok_or_else(|| missing("threshold"))?;
        weights.sort_by_key(|w| w.0);
        if let Some(w) = weights.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ModelError {
                line: 0,
                problem: format!("`{}` is given twice", key_text(w[0].0)),
            });
        }
        Ok(Model::new(&weights, bias, threshold))
    }

    /// The model file: a header, then one `gram <n-gram><TAB><weight>` line per n-gram,
    /// sorted, so that retraining shows as a readable diff.
    pub fn to_text(&self, header: &str) -> String {
        let mut weights: Vec<(String, f32)> = self
            .weights
            .iter()
            .map(|&(k, w)| (key_text(k), w))
            .collect();
        weights.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "format\t{FORMAT}");
        let _ = writeln!(out, "bias\t{:.4}", self.bias);
        let _ = writeln!(out, "threshold\t{}", self.threshold);
        for (gram, w) in weights {
            let _ = writeln!(out, "gram {gram}\t{w:.4}");
        }
        out
    }

    /// How many n-grams carry a weight.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }
}

/// How [`train`] fits: the inverse of the L2 penalty (larger fits the corpus closer), the
/// n-grams kept (the heaviest), the threshold written into the model, and the passes.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub c: f64,
    pub keep: usize,
    pub threshold: f32,
    pub passes: usize,
}

impl Default for Training {
    fn default() -> Self {
        Training {
            c: 10.0,
            keep: 8000,
            threshold: 0.25,
            passes: 400,
        }
    }
}

/// Fits the model on messages (their `spaced` form) labeled report (true) or chatter
/// (false). Deterministic: the same examples give the same file. Both classes weigh the
/// same in total, however many of each there are.
pub fn train(examples: &[(String, bool)], t: Training) -> Model {
    let mut ids: HashMap<u64, u32> = HashMap::new();
    let mut keys: Vec<u64> = Vec::new();
    let docs: Vec<(Vec<(u32, f32)>, f64)> = examples
        .iter()
        .map(|(text, report)| {
            let mut counts: HashMap<u32, f32> = HashMap::new();
            let n = grams(text, |k| {
                let id = *ids.entry(k).or_insert_with(|| {
                    keys.push(k);
                    (keys.len() - 1) as u32
                });
                *counts.entry(id).or_default() += 1.0;
            });
            let scale = 1.0 / (n.max(1) as f32).sqrt();
            let mut x: Vec<(u32, f32)> = counts.into_iter().map(|(i, c)| (i, c * scale)).collect();
            x.sort_by_key(|e| e.0);
            (x, if *report { 1.0 } else { -1.0 })
        })
        .collect();
    let positives = docs.iter().filter(|d| d.1 > 0.0).count().max(1) as f64;
    let negatives = (docs.len() as f64 - positives).max(1.0);
    let total = docs.len().max(1) as f64;
    let class_weight = |y: f64| {
        if y > 0.0 {
            total / (2.0 * positives)
        } else {
            total / (2.0 * negatives)
        }
    };
    // Minimizes mean weighted log loss + |w|²/(2·C·n) with Adam on the full batch: for a
    // few thousand short messages a pass takes milliseconds, and full batches make the
    // result independent of any order.
    let dim = keys.len() + 1; // the last one is the bias
    let mut w = vec![0.0f64; dim];
    let (mut m, mut v) = (vec![0.0f64; dim], vec![0.0f64; dim]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    let l2 = 1.0 / (t.c * total);
    let mut grad = vec![0.0f64; dim];
    // b1^pass and b2^pass kept as running products: `powi` may be computed differently by
    // an optimized build, and the file must be the same whichever build writes it.
    let (mut b1t, mut b2t) = (1.0f64, 1.0f64);
    for pass in 1..=t.passes {
        b1t *= b1;
        b2t *= b2;
        grad.iter_mut().for_each(|g| *g = 0.0);
        for (x, y) in &docs {
            let z = w[dim - 1]
                + x.iter()
                    .map(|&(i, v)| w[i as usize] * f64::from(v))
                    .sum::<f64>();
            // d/dz of log(1 + exp(-y z)) = -y / (1 + exp(y z))
            let g = -y / (1.0 + (y * z).exp()) * class_weight(*y) / total;
            for &(i, v) in x {
                grad[i as usize] += g * f64::from(v);
            }
            grad[dim - 1] += g;
        }
        let rate = 0.05 * (1.0 - 0.9 * pass as f64 / t.passes as f64);
        for i in 0..dim {
            if i < dim - 1 {
                grad[i] += l2 * w[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
            v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
            let mh = m[i] / (1.0 - b1t);
            let vh = v[i] / (1.0 - b2t);
            w[i] -= rate * mh / (vh.sqrt() + eps);
        }
    }
    let mut kept: Vec<(u64, f32)> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, w[i] as f32))
        .filter(|e| e.1 != 0.0)
        .collect();
    // The heaviest n-grams; ties broken by key, so the file never depends on hash order.
    kept.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    kept.truncate(t.keep);
    // Weights are written with 4 decimals: the model trained is the model shipped.
    let round = |x: f32| (x * 10_000.0).round() / 10_000.0;
    let kept: Vec<(u64, f32)> = kept.into_iter().map(|(k, x)| (k, round(x))).collect();
    Model::new(&kept, round(w[dim - 1] as f32), t.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(String, bool)> {
        let reports = [
            "カード登録できない",
            "エラーが出て払えない",
            "決済できません助けて",
            "認証が通らない",
        ];
        let chat = [
            "ありがとう、できました",
            "直りました！ありがとう",
            "解決しましたありがとう",
            "できたよありがとう",
        ];
        let mut out = Vec::new();
        for r in reports {
            out.push((r.to_string(), true));
        }
        for c in chat {
            out.push((c.to_string(), false));
        }
        out
    }

    #[test]
    fn training_separates_reports_from_thanks() {
        let model = train(&corpus(), Training::default());
        assert!(model.score("登録できないです") > 0.0);
        assert!(model.score("できました、ありがとう") < 0.0);
        assert!(model.veto("解決しました、ありがとうございます").is_some());
        assert!(model.veto("エラーで払えない").is_none());
    }

    #[test]
    fn a_model_file_reads_back_to_the_same_scores() {
        let model = train(&corpus(), Training::default());
        let again = Model::parse(&model.to_text("test")).unwrap();
        for (text, _) in corpus() {
            assert_eq!(model.score(&text), again.score(&text), "{text}");
        }
        assert_eq!(model.len(), again.len());
    }

    #[test]
    fn training_twice_writes_the_same_file() {
        let a = train(&corpus(), Training::default()).to_text("");
        let b = train(&corpus(), Training::default()).to_text("");
        assert_eq!(a, b);
    }

    #[test]
    fn bad_model_files_name_the_line() {
        let bad = [
            ("bias\t1\n", 1, "first line"),
            ("format\t2\n", 1, "format 2"),
            ("format\t1\nbias\tx\n", 2, "not a number"),
            ("format\t1\nbias\t0\nthreshold\t1.5\n", 3, "between 0 and 1"),
            (
                "format\t1\nbias\t0\nthreshold\t0.2\ngram abcd\t1\n",
                4,
                "2 or 3",
            ),
            (
                "format\t1\nbias\t0\nthreshold\t0.2\nweight x\t1\n",
                4,
                "unknown name",
            ),
            ("format\t1\nthreshold\t0.2\n", 2, "no `bias`"),
        ];
        for (text, line, says) in bad {
            let e = Model::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn long_messages_are_read_at_both_ends_only() {
        let mut seen = Vec::new();
        let text = format!(
            "{}{}{}",
            "あ".repeat(WINDOW),
            "い".repeat(1000),
            "う".repeat(WINDOW)
        );
        let n = grams(&text, |k| seen.push(k));
        // Bigrams and trigrams of each end.
        assert_eq!(n, 2 * (2 * WINDOW - 3));
        assert!(!seen.contains(&text_key("いい").unwrap()));
        assert!(seen.contains(&text_key("ああ").unwrap()));
        assert!(seen.contains(&text_key("ううう").unwrap()));
        let short = "あい".repeat(WINDOW / 2);
        assert_eq!(grams(&short, |_| ()), 2 * WINDOW - 3);
    }

    #[test]
    fn the_shipped_pack_has_its_model() {
        let pack = crate::builtin_pack().unwrap();
        let m = pack
            .chatter()
            .expect("knowledge/chatter-model.tsv is built in");
        assert!(m.len() > 1000, "{} n-grams", m.len());
    }
}
