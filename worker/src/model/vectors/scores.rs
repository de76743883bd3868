//! The three benchmark scores of one vector set together, as `evaluate` prints them.

use std::fmt;
use std::path::Path;

use super::{evaluate_word_analogies, evaluate_word_pairs, Vectors};
use crate::model::ModelError;

/// WordSim-353 and SimLex-999 Spearman, Google-analogy accuracy, and their OOV rates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scores {
    /// WordSim-353 Spearman.
    pub wordsim: f64,
    /// WordSim-353 pairs with an unknown word, percent.
    pub wordsim_oov: f64,
    /// SimLex-999 Spearman.
    pub simlex: f64,
    /// SimLex-999 pairs with an unknown word, percent.
    pub simlex_oov: f64,
    /// Google analogy accuracy (3CosAdd).
    pub analogy: f64,
    /// Analogy questions with an unknown word, percent.
    pub analogy_oov: f64,
}

impl Scores {
    /// Scores `v` on the three files.
    pub fn of(
        v: &Vectors,
        wordsim: &Path,
        simlex: &Path,
        analogies: &Path,
    ) -> Result<Scores, ModelError> {
        let ws = evaluate_word_pairs(v, wordsim)?;
        let sl = evaluate_word_pairs(v, simlex)?;
        let an = evaluate_word_analogies(v, analogies)?;
        Ok(Scores {
            wordsim: ws.spearman,
            wordsim_oov: ws.oov_percent,
            simlex: sl.spearman,
            simlex_oov: sl.oov_percent,
            analogy: an.accuracy,
            analogy_oov: an.oov_percent,
        })
    }
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  WordSim-353 Spearman  {:.4}  (OOV {:.1}%)",
            self.wordsim, self.wordsim_oov
        )?;
        writeln!(
            f,
            "  SimLex-999 Spearman   {:.4}  (OOV {:.1}%)",
            self.simlex, self.simlex_oov
        )?;
        write!(
            f,
            "  Google analogy 3CosAdd {:.4} (OOV {:.1}%)",
            self.analogy, self.analogy_oov
        )
    }
}
