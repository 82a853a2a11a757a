//! Howl's own wolf wisdom.

/// The quotes the distributor picks from.
pub const QUOTES: &[&str] = &[
    "The pack is only as fast as the wolf who listens.",
    "A howl carries further than a bark.",
    "Hunt at dawn, rest at noon, sing at dusk.",
    "The moon does not answer, and still the wolf sings.",
    "Follow the tracks, but make your own.",
    "Snow hides the trail, not the scent.",
    "A lone wolf learns; a pack remembers.",
    "Do not chase two deer through one forest.",
    "The den is warm because the hunt was cold.",
    "Every pup howls off-key before it howls true.",
    "Circle twice before you lie down.",
    "The quietest wolf hears the river freeze.",
    "Wind tells the truth to those who face it.",
    "A full belly forgets; a hungry one plans.",
    "The strongest pack shares the smallest kill.",
    "Patience is a hunt that has already begun.",
    "Mark your ground, then defend only what matters.",
    "An old wolf's limp is a map of every winter.",
    "Run into the storm and you meet it half as long.",
    "Howl once for the pack, twice for the lost.",
    "The trail is long; the pack makes it short.",
    "Sharp ears, soft paws, steady heart.",
    "A wolf who waits by the river eats fish.",
    "Lead from the back on the longest journeys.",
    "Even the alpha was carried as a pup.",
    "Trust the nose before the eye.",
    "The forest is loud to those who do not listen.",
    "A scattered pack is a hungry pack.",
    "Rest is part of the hunt.",
    "The echo returns what the howl gives.",
    "Cross the ice while it is thick; talk about it later.",
    "The pack does not wait for the perfect moon.",
    "Every frozen lake was once a running river.",
    "A wolf is measured by the pups it guards, not the elk it fells.",
];

#[cfg(test)]
mod tests {
    use super::QUOTES;

    #[test]
    fn at_least_thirty_distinct_short_quotes() {
        let mut unique: Vec<_> = QUOTES.to_vec();
        unique.sort();
        unique.dedup();
        assert!(unique.len() >= 30, "{} quotes", unique.len());
        assert!(QUOTES.iter().all(|q| !q.is_empty() && q.len() <= 80));
    }
}
