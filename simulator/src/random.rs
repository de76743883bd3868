//! Seeded random graphs: the `random` command's scenarios and the bench's graphs.

use emission::graph::{Graph, GraphError};
use emission::schedule::SplitMix64;

/// Parameters of a random graph.
#[derive(Debug, Clone, Copy)]
pub struct RandomGraph {
    /// Number of nodes.
    pub nodes: usize,
    /// Most out-edges per node (self edge not counted); capped at `MAX_EDGES - 1`.
    pub max_degree: usize,
    /// Generator seed.
    pub seed: u64,
}

impl RandomGraph {
    /// Builds the graph: each node gets a uniform number of distinct random targets
    /// (`0..=max_degree`), a self weight in `[0.1, 1)` and random positive shares of the rest.
    pub fn build(&self) -> Result<(Graph, Vec<f64>), GraphError> {
        let mut rng = SplitMix64::new(self.seed);
        let max_degree = self
            .max_degree
            .min(emission::fixed::MAX_EDGES - 1)
            .min(self.nodes.saturating_sub(1));
        let mut lists = Vec::with_capacity(self.nodes);
        let mut stake = Vec::with_capacity(self.nodes);
        for i in 0..self.nodes {
            let degree = rng.below(max_degree as u64 + 1) as usize;
            let mut targets: Vec<usize> = Vec::with_capacity(degree);
            while targets.len() < degree {
                let t = rng.below(self.nodes as u64) as usize;
                if t != i && !targets.contains(&t) {
                    targets.push(t);
                }
            }
            let self_weight = if degree == 0 {
                1.0
            } else {
                0.1 + 0.9 * rng.next_f64()
            };
            let raw: Vec<f64> = targets.iter().map(|_| 0.05 + rng.next_f64()).collect();
            let raw_sum: f64 = raw.iter().sum();
            let mut list = vec![(i, self_weight)];
            list.extend(
                targets
                    .iter()
                    .zip(&raw)
                    .map(|(t, r)| (*t, (1.0 - self_weight) * r / raw_sum)),
            );
            lists.push(list);
            stake.push(1.0 + 9.0 * rng.next_f64());
        }
        Ok((Graph::from_float(&lists, 1e-9)?, stake))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_graph_and_degrees_bounded() {
        let spec = RandomGraph {
            nodes: 50,
            max_degree: 6,
            seed: 3,
        };
        let (a, sa) = spec.build().unwrap();
        let (b, sb) = spec.build().unwrap();
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        for i in 0..a.len() {
            assert!(a.edges(i).len() <= 7);
            assert_eq!(a.edges(i)[0].to, i);
        }
    }
}
