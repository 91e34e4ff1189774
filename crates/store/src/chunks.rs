//! Multi-row inserts in a few fixed sizes.
//!
//! A multi-row INSERT's text depends on its row count, and preparing a
//! statement costs more than running it. Splitting rows into power-of-two
//! chunks keeps the number of distinct statements small, so each stays in
//! the connection's prepared-statement cache.

/// `items` split into chunks whose sizes are powers of two, at most `max`.
pub(crate) fn power_of_two<T>(mut items: &[T], max: usize) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    while !items.is_empty() {
        let size = max.min(1 << items.len().ilog2());
        let (chunk, rest) = items.split_at(size);
        chunks.push(chunk);
        items = rest;
    }
    chunks
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_are_powers_of_two_and_cover_everything() {
        let items: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = super::power_of_two(&items, 128).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![128, 128, 32, 8, 4]);
        assert_eq!(super::power_of_two(&items[..1], 128).len(), 1);
        assert!(super::power_of_two::<u32>(&[], 128).is_empty());
    }
}
