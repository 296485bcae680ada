//! The mutation engine: libFuzzer-style havoc on bytes. Each new input is a corpus entry with a
//! stack of 1 to 16 mutations: bit and byte flips, interesting integers (both byte orders),
//! small arithmetic, inserts, deletes, block duplication, splicing with another corpus entry,
//! dictionary tokens (format keywords) and ASCII numbers rewritten (lengths and offsets in PDFs
//! and TOML are text). A fixed seed gives the same inputs in the same order.

/// splitmix64 seeding xorshift64*: tiny, fast and reproducible (no dependency for it).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    /// A length in `1..=max` (`max` >= 1): up to 64 mostly, up to `max` one time in eight.
    fn length(&mut self, max: usize) -> usize {
        let cap = if self.chance(8) { max } else { max.min(64) };
        1 + self.below(cap)
    }
}

/// Values that break size checks and loop bounds more often than random ones do.
const INTERESTING: [u64; 16] = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
    u64::MAX,
];

/// Numbers written as text into inputs whose lengths and offsets are ASCII (PDF, TOML).
const INTERESTING_TEXT: [&str; 12] =
    ["0", "-1", "1", "65535", "65536", "2147483647", "4294967296", "99999999999999999999", "1e308", "-0", "3.5", "NaN"];

/// The mutation operators, one per kind of damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    FlipBit,
    RandomByte,
    Interesting,
    Arith,
    InsertRandom,
    InsertRepeated,
    Delete,
    DuplicateBlock,
    CopyBlock,
    Splice,
    InsertOther,
    DictInsert,
    DictOverwrite,
    TextNumber,
    Truncate,
}

pub const OPS: [Op; 15] = [
    Op::FlipBit,
    Op::RandomByte,
    Op::Interesting,
    Op::Arith,
    Op::InsertRandom,
    Op::InsertRepeated,
    Op::Delete,
    Op::DuplicateBlock,
    Op::CopyBlock,
    Op::Splice,
    Op::InsertOther,
    Op::DictInsert,
    Op::DictOverwrite,
    Op::TextNumber,
    Op::Truncate,
];

pub struct Mutator {
    pub rng: Rng,
    dictionary: Vec<Vec<u8>>,
    max_len: usize,
}

impl Mutator {
    pub fn new(seed: u64, dictionary: Vec<Vec<u8>>, max_len: usize) -> Self {
        Mutator { rng: Rng::new(seed), dictionary, max_len: max_len.max(1) }
    }

    /// A new input from `base`: a stack of 1, 2, 4, 8 or 16 mutations, `others` giving the
    /// material for splicing. Never empty, never longer than the maximum length.
    pub fn mutate(&mut self, base: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
        let mut data = base.to_vec();
        let stack = 1 << self.rng.below(5);
        for _ in 0..stack {
            let op = OPS[self.rng.below(OPS.len())];
            self.apply(op, &mut data, others);
        }
        if data.is_empty() {
            data.push(self.rng.next() as u8);
        }
        data.truncate(self.max_len);
        data
    }

    /// Apply one operator (a no-op where it cannot apply, e.g. a delete on one byte).
    pub fn apply(&mut self, op: Op, data: &mut Vec<u8>, others: &[Vec<u8>]) {
        let len = data.len();
        let r = &mut self.rng;
        match op {
            Op::FlipBit if len > 0 => {
                let at = r.below(len);
                data[at] ^= 1 << r.below(8);
            }
            Op::RandomByte if len > 0 => {
                let at = r.below(len);
                data[at] = r.next() as u8;
            }
            Op::Interesting if len > 0 => {
                let width = [1, 2, 4, 8][r.below(4)].min(len);
                let at = r.below(len - width + 1);
                let value = INTERESTING[r.below(INTERESTING.len())];
                // The value cut to `width` bytes, little- or big-endian.
                if r.chance(2) {
                    data[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
                } else {
                    data[at..at + width].copy_from_slice(&value.to_be_bytes()[8 - width..]);
                }
            }
            Op::Arith if len > 0 => {
                let at = r.below(len);
                let delta = 1 + r.below(35) as u8;
                data[at] = if r.chance(2) { data[at].wrapping_add(delta) } else { data[at].wrapping_sub(delta) };
            }
            Op::InsertRandom => {
                let n = 1 + r.below(16);
                let at = r.below(len + 1);
                let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            Op::InsertRepeated => {
                let n = r.length(4096);
                let at = r.below(len + 1);
                let byte = if r.chance(2) { r.next() as u8 } else { [0, 0xFF, b' ', b'0'][r.below(4)] };
                data.splice(at..at, std::iter::repeat_n(byte, n));
            }
            Op::Delete if len > 1 => {
                let n = r.length(len - 1);
                let at = r.below(len - n + 1);
                data.drain(at..at + n);
            }
            Op::DuplicateBlock if len > 0 => {
                let (from, n) = block(r, len);
                let at = r.below(len + 1);
                let copy = data[from..from + n].to_vec();
                data.splice(at..at, copy);
            }
            Op::CopyBlock if len > 1 => {
                let (from, n) = block(r, len);
                let to = r.below(len - n + 1);
                data.copy_within(from..from + n, to);
            }
            Op::Splice if !others.is_empty() => {
                // Crossover: this input's head, another's tail.
                let other = &others[r.below(others.len())];
                let cut = r.below(len + 1);
                let from = r.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            Op::InsertOther if !others.is_empty() => {
                let other = &others[r.below(others.len())];
                if !other.is_empty() {
                    let (from, n) = block(r, other.len());
                    let at = r.below(len + 1);
                    data.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            Op::DictInsert if !self.dictionary.is_empty() => {
                let token = &self.dictionary[r.below(self.dictionary.len())];
                let at = r.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            Op::DictOverwrite if !self.dictionary.is_empty() => {
                let token = &self.dictionary[r.below(self.dictionary.len())];
                if token.len() <= len {
                    let at = r.below(len - token.len() + 1);
                    data[at..at + token.len()].copy_from_slice(token);
                }
            }
            Op::TextNumber => {
                if let Some((start, end)) = digit_run(data, r) {
                    let number = INTERESTING_TEXT[r.below(INTERESTING_TEXT.len())];
                    data.splice(start..end, number.bytes());
                }
            }
            Op::Truncate if len > 1 => data.truncate(1 + r.below(len - 1)),
            _ => {}
        }
        data.truncate(self.max_len.max(len));
    }
}

/// A block within `len` (>= 1) bytes: its start and length.
fn block(r: &mut Rng, len: usize) -> (usize, usize) {
    let n = r.length(len);
    (r.below(len - n + 1), n)
}

/// A run of ASCII digits, found from a random starting point: its start and end.
fn digit_run(data: &[u8], r: &mut Rng) -> Option<(usize, usize)> {
    if data.is_empty() {
        return None;
    }
    let from = r.below(data.len());
    let start = (from..data.len()).chain(0..from).find(|&i| data[i].is_ascii_digit())?;
    let end = (start..data.len()).find(|&i| !data[i].is_ascii_digit()).unwrap_or(data.len());
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let run = |seed| {
            let mut m = Mutator::new(seed, vec![b"obj".to_vec()], 1024);
            (0..200).map(|_| m.mutate(b"%PDF-1.4 1 0 obj << /Length 12 >>", &[b"other".to_vec()])).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn every_operator_changes_a_typical_input() {
        let base = b"name = \"a\" 1234 \x00\x01\x02\x03 and more bytes to work on".to_vec();
        let others = vec![b"ANOTHER ENTRY".to_vec()];
        for op in OPS {
            let mut m = Mutator::new(1, vec![b"[[field]]".to_vec()], 4096);
            // Some draws leave the input as it was (a byte set to its own value): 20 tries.
            let changed = (0..20).any(|_| {
                let mut data = base.clone();
                m.apply(op, &mut data, &others);
                data != base
            });
            assert!(changed, "{op:?} never changed the input");
        }
    }

    #[test]
    fn inputs_stay_within_the_maximum_length_and_never_empty() {
        let mut m = Mutator::new(3, vec![vec![b'x'; 100]], 64);
        for _ in 0..2000 {
            let out = m.mutate(b"abc", &[vec![7; 500]]);
            assert!(!out.is_empty() && out.len() <= 64, "{}", out.len());
        }
    }

    #[test]
    fn dictionary_tokens_and_spliced_material_appear() {
        let mut m = Mutator::new(5, vec![b"IHDR".to_vec()], 1 << 16);
        let outs: Vec<Vec<u8>> = (0..500).map(|_| m.mutate(b"0123456789", &[b"SPLICEME".to_vec()])).collect();
        let has = |needle: &[u8]| outs.iter().any(|o| o.windows(needle.len()).any(|w| w == needle));
        assert!(has(b"IHDR"), "no dictionary token was inserted");
        assert!(has(b"SPLI") || has(b"ICEME"), "nothing was spliced in from the other entry");
    }

    #[test]
    fn ascii_numbers_are_rewritten_whole() {
        let mut m = Mutator::new(11, vec![], 1024);
        let mut data = b"/Length 1234 >>".to_vec();
        m.apply(Op::TextNumber, &mut data, &[]);
        let text = String::from_utf8_lossy(&data);
        assert!(text.starts_with("/Length ") && text.ends_with(" >>"), "{text}");
        assert!(!text.contains("1234"), "{text}");
    }
}
