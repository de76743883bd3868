//! nodeos block timestamps (`2026-11-25T16:23:52.500`, UTC) to Unix seconds, for
//! transaction expirations computed from the chain's clock rather than the local one.

use crate::error::ChainError;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]` (UTC) into whole seconds since the Unix epoch.
pub fn parse_block_time(text: &str) -> Result<u32, ChainError> {
    u32::try_from(parse_block_time_ms(text)? / 1000).map_err(|_| bad_time(text))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]` (UTC) into milliseconds since the Unix epoch (block
/// slots are half seconds, so callers mapping a trace's `block_time` to a slot need the
/// fraction).
pub fn parse_block_time_ms(text: &str) -> Result<u64, ChainError> {
    let bad = || bad_time(text);
    let (date, time) = text.split_once('T').ok_or_else(bad)?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = match (d.next(), d.next(), d.next(), d.next()) {
        (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) => (y, m, day),
        _ => return Err(bad()),
    };
    let (time, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = time.split(':').map(|p| p.parse::<i64>());
    let (h, min, s) = match (t.next(), t.next(), t.next(), t.next()) {
        (Some(Ok(h)), Some(Ok(min)), Some(Ok(s)), None) => (h, min, s),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return Err(bad());
    }
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // "5" is 500 ms, "05" 50 ms: pad to three digits.
    let ms: i64 = format!("{fraction:0<3}").parse().map_err(|_| bad())?;
    let secs = days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + s;
    u64::try_from(secs * 1000 + ms).map_err(|_| bad())
}

fn bad_time(text: &str) -> ChainError {
    ChainError::Decode(format!("bad block time `{text}`"))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_timestamps() {
        assert_eq!(parse_block_time("1970-01-01T00:00:00.000").unwrap(), 0);
        assert_eq!(
            parse_block_time("2000-03-01T00:00:00").unwrap(),
            951_868_800
        );
        assert_eq!(
            parse_block_time("2026-11-25T16:23:52.500").unwrap(),
            1_795_623_832
        );
        assert_eq!(
            parse_block_time_ms("2000-03-01T00:00:00.500").unwrap(),
            951_868_800_500
        );
        assert_eq!(parse_block_time_ms("1970-01-01T00:00:01.5").unwrap(), 1_500);
        assert!(parse_block_time_ms("1970-01-01T00:00:01.5000").is_err());
        assert!(parse_block_time("2026-13-01T00:00:00").is_err());
        assert!(parse_block_time("yesterday").is_err());
    }
}
