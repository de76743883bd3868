//! The strategic behaviours of the catalogue (issue "Reward follows value"), each a set of
//! hooks on the production node: it trains, values its peers and posts edges exactly as an
//! honest node does, except where its behaviour says otherwise.
//!
//! - `noise`: publishes, for the rows its own update changed, random deltas of the bound's
//!   norm (the largest a peer applies) in both tables.
//! - `lazy`: never trains; publishes its (empty) change, serves its initialisation.
//! - `copier`: publishes the update it received this round that is most like its own change
//!   (it trains on the shard of the node it copies, so that is that node's update).
//! - `selfish`: posts a self-only edge set.
//! - `ring`: posts its computed self weight and everything else to its partner.

use std::sync::Mutex;

use bittensor_worker::model::w2v::{overlap_cosine, Lcg, SparseUpdate};
use emission::fixed::WEIGHT_ONE;
use emission::Edge;

use bittensor_worker::node::hooks::Hooks;

/// One behaviour of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves noise of the bound's norm.
    Noise,
    /// Never trains.
    Lazy,
    /// Relays the update of the node whose shard it trains on.
    Copier,
    /// Posts self-only edges.
    Selfish,
    /// Attributes everything but its self weight to `partner`.
    Ring {
        /// The other account of the ring.
        partner: String,
    },
}

impl Behaviour {
    /// Parses a behaviour name (`ring` needs the partner).
    pub fn parse(name: &str, partner: Option<&str>) -> Result<Behaviour, String> {
        Ok(match name {
            "noise" => Behaviour::Noise,
            "lazy" => Behaviour::Lazy,
            "copier" => Behaviour::Copier,
            "selfish" => Behaviour::Selfish,
            "ring" => Behaviour::Ring {
                partner: partner.ok_or("ring needs --partner ACCOUNT")?.to_string(),
            },
            other => {
                return Err(format!(
                    "unknown behaviour {other:?}: noise, lazy, copier, selfish or ring"
                ))
            }
        })
    }

    /// The node's hooks for this behaviour; `max_row_norm` is the network's bound, `seed`
    /// seeds the noise.
    pub fn hooks(&self, max_row_norm: f32, seed: u64) -> Hooks {
        let mut hooks = Hooks {
            publish: None,
            train: true,
            edges: None,
        };
        match self {
            Behaviour::Noise => {
                let rng = Mutex::new(Lcg::new(seed));
                hooks.publish = Some(Box::new(move |own, _| {
                    let mut rng = rng.lock().unwrap_or_else(|e| e.into_inner());
                    noise_like(own, max_row_norm, &mut rng)
                }));
            }
            Behaviour::Lazy => hooks.train = false,
            Behaviour::Copier => hooks.publish = Some(Box::new(most_like_own)),
            Behaviour::Selfish => hooks.edges = Some(Box::new(self_only)),
            Behaviour::Ring { partner } => {
                let partner = partner.clone();
                hooks.edges = Some(Box::new(move |edges| to_partner(edges, &partner)));
            }
        }
        hooks
    }
}

/// Random deltas of L2 norm `norm` per row and table, on the rows `own` changed.
pub fn noise_like(own: &SparseUpdate, norm: f32, rng: &mut Lcg) -> SparseUpdate {
    let dim = own.dim;
    let mut table = || -> Vec<f32> {
        let mut out = Vec::with_capacity(own.rows.len() * dim);
        for _ in 0..own.rows.len() {
            let row: Vec<f32> = (0..dim).map(|_| rng.unit() - 0.5).collect();
            let n = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            out.extend(row.iter().map(|x| x / n * norm));
        }
        out
    };
    let (input, context) = (table(), table());
    SparseUpdate {
        round: own.round,
        dim,
        rows: own.rows.clone(),
        input,
        context,
    }
}

/// The received update most like `own` (cosine on common rows), or an empty one.
pub fn most_like_own(own: &SparseUpdate, received: &[SparseUpdate]) -> SparseUpdate {
    received
        .iter()
        .filter(|u| !u.rows.is_empty())
        .map(|u| (overlap_cosine(own, u).0, u))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, u)| u.clone())
        .unwrap_or_else(|| SparseUpdate {
            round: own.round,
            dim: own.dim,
            rows: vec![],
            input: vec![],
            context: vec![],
        })
}

/// The node's edge set replaced by self only.
pub fn self_only(edges: Vec<Edge<String>>) -> Vec<Edge<String>> {
    edges
        .into_iter()
        .take(1)
        .map(|e| Edge {
            to: e.to,
            weight: WEIGHT_ONE,
        })
        .collect()
}

/// The node's computed self weight kept, the rest all to `partner`.
pub fn to_partner(edges: Vec<Edge<String>>, partner: &str) -> Vec<Edge<String>> {
    let Some(me) = edges.first().cloned() else {
        return edges;
    };
    if me.weight >= WEIGHT_ONE {
        return vec![me];
    }
    let rest = Edge {
        to: partner.to_string(),
        weight: WEIGHT_ONE - me.weight,
    };
    vec![me, rest]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(rows: Vec<u32>, seed: u64) -> SparseUpdate {
        let mut rng = Lcg::new(seed);
        let n = rows.len() * 4;
        SparseUpdate {
            round: 1,
            dim: 4,
            rows,
            input: (0..n).map(|_| rng.unit() - 0.5).collect(),
            context: (0..n).map(|_| rng.unit() - 0.5).collect(),
        }
    }

    #[test]
    fn noise_has_the_bounds_norm_on_the_own_rows() {
        let own = update(vec![1, 4, 9], 1);
        let n = noise_like(&own, 0.5, &mut Lcg::new(2));
        assert_eq!(n.rows, own.rows);
        n.validate().unwrap();
        for row in n.input.chunks(4).chain(n.context.chunks(4)) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 0.5).abs() < 1e-5, "{norm}");
        }
        assert!(overlap_cosine(&n, &own).0.abs() < 0.9);
    }

    #[test]
    fn the_copier_relays_the_update_most_like_its_own() {
        let own = update(vec![1, 2, 3], 1);
        let mut near = own.clone();
        near.input[0] += 0.01;
        let far = update(vec![1, 2, 3], 9);
        let got = most_like_own(&own, &[far.clone(), near.clone(), update(vec![], 3)]);
        assert_eq!(got, near);
        assert!(most_like_own(&own, &[]).rows.is_empty());
    }

    #[test]
    fn selfish_and_ring_edges_keep_the_self_weight_rule() {
        let edges = vec![
            Edge {
                to: "me".to_string(),
                weight: 200_000,
            },
            Edge {
                to: "a".to_string(),
                weight: 500_000,
            },
            Edge {
                to: "b".to_string(),
                weight: 300_000,
            },
        ];
        let selfish = self_only(edges.clone());
        assert_eq!(selfish.len(), 1);
        assert_eq!(
            (selfish[0].to.as_str(), selfish[0].weight),
            ("me", WEIGHT_ONE)
        );
        let ring = to_partner(edges, "p");
        let got: Vec<(&str, u32)> = ring.iter().map(|e| (e.to.as_str(), e.weight)).collect();
        assert_eq!(got, vec![("me", 200_000), ("p", 800_000)]);
        assert!(Behaviour::parse("ring", None).is_err());
        assert!(Behaviour::parse("bogus", None).is_err());
    }
}
