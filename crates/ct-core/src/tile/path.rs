//! Tile paths (c2sp.org/tlog-tiles, c2sp.org/static-ct-api): `tile/<L>/<N>[.p/<W>]` for hash
//! tiles and `tile/data/<N>[.p/<W>]` for data tiles.
//!
//! `<N>` is written in 3-digit groups, every group but the last prefixed with `x`
//! (1234067 → `x001/x234/067`), so tiles can be files in directories without a file and a
//! directory sharing a name. Parsing accepts only the canonical form, so each tile has exactly
//! one path and a path can be used as a storage key.

use std::fmt::{self, Write as _};

use super::{FULL_TILE_WIDTH, MAX_LEVEL, Tile, TileError};

/// A parsed tile path: a hash tile, or the data tile that matches a level-0 hash tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hash(Tile),
    /// `tile/data/<N>[.p/<W>]`: the entries whose leaf hashes the level-0 tile `N` holds. The
    /// tile is always level 0.
    Data(Tile),
}

impl TilePath {
    /// The data tile matching level-0 hash tile `tile`; `None` for tiles of other levels.
    pub fn data(tile: Tile) -> Option<Self> {
        (tile.level() == 0).then_some(Self::Data(tile))
    }

    /// The tile the path names (for a data tile, its level-0 twin).
    pub const fn tile(&self) -> Tile {
        match self {
            Self::Hash(t) | Self::Data(t) => *t,
        }
    }

    /// Parses a path relative to the monitoring prefix (no leading `/`), accepting only the
    /// canonical encoding: no leading zeros in `L` or `W`, no empty or all-zero leading group in
    /// `N`, `W` only for partial tiles (1-255).
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TileError::InvalidPath("does not start with tile/"))?;
        let (kind, rest) = rest
            .split_once('/')
            .ok_or(TileError::InvalidPath("missing tile index"))?;
        let level = if kind == "data" {
            None
        } else {
            Some(parse_level(kind)?)
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => (index, parse_width(width)?),
            None => (rest, FULL_TILE_WIDTH),
        };
        let n = parse_index(index)?;
        let tile = Tile::new(level.unwrap_or(0), n, width)?;
        let parsed = match level {
            Some(_) => Self::Hash(tile),
            None => Self::Data(tile),
        };
        // Belt and braces: whatever was accepted must print back identically.
        if parsed.to_string() != path {
            return Err(TileError::InvalidPath("not in canonical form"));
        }
        Ok(parsed)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tile = self.tile();
        match self {
            Self::Hash(_) => write!(f, "tile/{}/", tile.level())?,
            Self::Data(_) => f.write_str("tile/data/")?,
        }
        f.write_str(&encode_index(tile.n()))?;
        if !tile.is_full() {
            write!(f, ".p/{}", tile.width())?;
        }
        Ok(())
    }
}

impl Tile {
    /// The tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        TilePath::Hash(*self).to_string()
    }

    /// The matching data tile's path, `tile/data/<N>[.p/<W>]`; `None` above level 0.
    pub fn data_path(&self) -> Option<String> {
        TilePath::data(*self).map(|p| p.to_string())
    }
}

/// `<N>` in 3-digit groups, all but the last prefixed with `x`.
fn encode_index(n: u64) -> String {
    let digits = n.to_string();
    let padded = format!("{:0>width$}", digits, width = digits.len().div_ceil(3) * 3);
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .filter_map(|g| std::str::from_utf8(g).ok())
        .collect();
    let mut out = String::with_capacity(padded.len() + 2 * groups.len());
    for (i, group) in groups.iter().enumerate() {
        if i + 1 < groups.len() {
            let _ = write!(out, "x{group}/");
        } else {
            out.push_str(group);
        }
    }
    out
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `<L>`: a single decimal digit 0-5 (static-ct-api), so no leading zeros are possible.
fn parse_level(s: &str) -> Result<u8, TileError> {
    match s.as_bytes() {
        [d @ b'0'..=b'9'] => {
            let level = d - b'0';
            if level > MAX_LEVEL {
                Err(TileError::LevelTooHigh(level))
            } else {
                Ok(level)
            }
        }
        _ => Err(TileError::InvalidPath("level is not a single digit")),
    }
}

/// `<W>`: 1-255, no leading zeros.
fn parse_width(s: &str) -> Result<u16, TileError> {
    if !all_digits(s) || s.len() > 3 || s.starts_with('0') {
        return Err(TileError::InvalidPath("partial width is not 1-255"));
    }
    let width: u16 = s
        .parse()
        .map_err(|_| TileError::InvalidPath("partial width is not 1-255"))?;
    if width >= FULL_TILE_WIDTH {
        return Err(TileError::InvalidPath("partial width is not 1-255"));
    }
    Ok(width)
}

/// `<N>`: `x`-prefixed 3-digit groups then a final bare 3-digit group.
fn parse_index(s: &str) -> Result<u64, TileError> {
    let bad = TileError::InvalidPath("malformed tile index");
    let groups: Vec<&str> = s.split('/').collect();
    let (last, leading) = groups.split_last().ok_or(bad.clone())?;
    let mut n: u64 = 0;
    for group in leading
        .iter()
        .map(|g| g.strip_prefix('x'))
        .chain(std::iter::once(Some(*last)))
    {
        let group = group
            .filter(|g| g.len() == 3 && all_digits(g))
            .ok_or(bad.clone())?;
        let value: u64 = group.parse().map_err(|_| bad.clone())?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(value))
            .ok_or(TileError::InvalidPath("tile index overflows"))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_groups() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(7), "007");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
    }

    #[test]
    fn spec_example_paths() {
        let t = Tile::new(0, 1_234_067, 256).unwrap();
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        assert_eq!(t.data_path().unwrap(), "tile/data/x001/x234/067");
        let p = Tile::new(2, 5, 17).unwrap();
        assert_eq!(p.path(), "tile/2/005.p/17");
        assert_eq!(p.data_path(), None);
        assert_eq!(
            TilePath::parse("tile/2/005.p/17").unwrap(),
            TilePath::Hash(p)
        );
    }
}
