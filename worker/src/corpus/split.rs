//! Splitting a text file into the private shards of a network, keeping its lines (an article
//! or a dictionary entry stays a sentence): a prefix of `max_tokens` tokens, cut into
//! `count` contiguous files of about equal token counts, so each node is given only its own.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CorpusError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CorpusError + '_ {
    move |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the first `max_tokens` whitespace tokens of `src` (all with `None`) to
/// `dir/corpus.txt` and its `count` contiguous shards to `dir/shard-{i}.txt`; returns the
/// whole prefix's path and the shards' paths. Lines are kept; the last line may be cut.
pub fn write_shards(
    src: &Path,
    max_tokens: Option<usize>,
    count: usize,
    dir: &Path,
) -> Result<(PathBuf, Vec<PathBuf>), CorpusError> {
    let count = count.max(1);
    let text = super::read::read_text(src)?;
    let limit = max_tokens.unwrap_or(usize::MAX);
    let mut lines: Vec<Vec<&str>> = Vec::new();
    let mut total = 0usize;
    for line in text.lines() {
        if total >= limit {
            break;
        }
        let mut words: Vec<&str> = line.split_whitespace().collect();
        words.truncate(limit - total);
        total += words.len();
        if !words.is_empty() {
            lines.push(words);
        }
    }
    if total == 0 {
        return Err(CorpusError::Empty {
            path: src.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let whole = dir.join("corpus.txt");
    let shards: Vec<PathBuf> = (0..count)
        .map(|i| dir.join(format!("shard-{i}.txt")))
        .collect();
    let mut all = BufWriter::new(std::fs::File::create(&whole).map_err(io(&whole))?);
    let mut outs = shards
        .iter()
        .map(|p| Ok(BufWriter::new(std::fs::File::create(p).map_err(io(p))?)))
        .collect::<Result<Vec<_>, CorpusError>>()?;
    let mut seen = 0usize;
    for words in &lines {
        let line = words.join(" ");
        writeln!(all, "{line}").map_err(io(&whole))?;
        // A line goes to the shard its first token falls in.
        let shard = (seen * count / total).min(count - 1);
        writeln!(outs[shard], "{line}").map_err(io(&shards[shard]))?;
        seen += words.len();
    }
    all.flush().map_err(io(&whole))?;
    for (o, p) in outs.iter_mut().zip(&shards) {
        o.flush().map_err(io(p))?;
    }
    Ok((whole, shards))
}
