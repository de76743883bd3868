//! The node's network: a local embedding table, concatenated with the k embeddings upstream
//! peers serve for the same words, through a tanh hidden layer into this node's output
//! embedding, which is trained by skip-gram against a context table and served downstream.
//!
//! What `serve` uses for peer inputs: the last peer inputs seen in training for each word
//! (a per-peer `[vocab, out_dim]` cache, zero for words not yet seen). So what this node serves
//! carries its upstream peers' knowledge too, without serving having to call the peers.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::adam::Adam;
use super::{validate, ModelConfig, ModelError};

/// One node's skip-gram model with peer inputs (see the module docs for the architecture).
pub struct Model {
    pub(super) cfg: ModelConfig,
    /// Local word embeddings `[vocab, embed_dim]`.
    pub(super) emb: Tensor,
    /// Hidden layer weight `[out_dim, embed_dim + k * out_dim]`.
    pub(super) weight: Tensor,
    /// Hidden layer bias `[out_dim]`.
    pub(super) bias: Tensor,
    /// Skip-gram context (output) table `[vocab, out_dim]`.
    pub(super) context: Tensor,
    /// Last peer inputs seen per word `[k, vocab, out_dim]` (not trained).
    pub(super) cache: Tensor,
    pub(super) adam: Adam,
    pub(super) rng: ChaCha8Rng,
}

impl Model {
    /// A freshly initialised model (deterministic per `cfg.seed`).
    pub fn new(cfg: &ModelConfig) -> Result<Model, ModelError> {
        cfg.validate()?;
        tch::manual_seed(cfg.seed as i64);
        let opts = (Kind::Float, tch::Device::Cpu);
        let (v, d, e, k) = (cfg.vocab, cfg.embed_dim, cfg.out_dim, cfg.peers as i64);
        let fan_in = cfg.input_dim() as f64;
        let bound = 1.0 / fan_in.sqrt();
        let emb = Tensor::f_randn([v, d], opts)?;
        let weight = Tensor::f_rand([e, cfg.input_dim()], opts)?
            .f_mul_scalar(2.0 * bound)?
            .f_sub_scalar(bound)?;
        let bias = Tensor::f_zeros([e], opts)?;
        let context = Tensor::f_randn([v, e], opts)?.f_mul_scalar(0.1)?;
        let cache = Tensor::f_zeros([k, v, e], opts)?;
        // Only the dense layer is differentiated in place; the tables are updated row-wise
        // through leaf copies of the rows a batch uses.
        let weight = weight.f_set_requires_grad(true)?;
        let bias = bias.f_set_requires_grad(true)?;
        let adam = Adam::new(&[&emb, &weight, &bias, &context])?;
        Ok(Model {
            cfg: cfg.clone(),
            emb,
            weight,
            bias,
            context,
            cache,
            adam,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x9e37_79b9_7f4a_7c15),
        })
    }

    /// The configuration this model was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// `tanh(W [local; peer_1; ...; peer_k] + b)`: the output embedding of a batch.
    pub(super) fn hidden(&self, local: &Tensor, peers: &[Tensor]) -> Result<Tensor, ModelError> {
        let mut parts: Vec<&Tensor> = Vec::with_capacity(peers.len() + 1);
        parts.push(local);
        parts.extend(peers.iter());
        let x = Tensor::f_cat(&parts, 1)?;
        Ok(x.f_matmul(&self.weight.f_transpose(0, 1)?)?
            .f_add(&self.bias)?
            .f_tanh()?)
    }

    /// The cached peer inputs for `words`: one `[n, out_dim]` tensor per peer.
    pub(super) fn cached_peers(&self, words: &Tensor) -> Result<Vec<Tensor>, ModelError> {
        (0..self.cfg.peers as i64)
            .map(|j| Ok(self.cache.f_select(0, j)?.f_index_select(0, words)?))
            .collect()
    }

    /// What downstream peers receive: `[n, out_dim]` f32 output embeddings of `words`, computed
    /// without gradient from the local embeddings and the cached peer inputs.
    /// An empty request gets an empty `[0, out_dim]` tensor.
    pub fn serve(&self, words: &[i64]) -> Result<Tensor, ModelError> {
        if words.is_empty() {
            let opts = (Kind::Float, tch::Device::Cpu);
            return Ok(Tensor::f_zeros([0, self.cfg.out_dim], opts)?);
        }
        validate::ids(words, self.cfg.vocab)?;
        let _guard = tch::no_grad_guard();
        let ids = Tensor::from_slice(words);
        let local = self.emb.f_index_select(0, &ids)?;
        let peers = self.cached_peers(&ids)?;
        self.hidden(&local, &peers)
    }

    /// Output embeddings of `words` given explicit peer inputs (k tensors `[n, out_dim]`), without
    /// gradient: lets an evaluation feed peers' current embeddings for words never trained on.
    pub fn embed_with(&self, words: &[i64], peers: &[Tensor]) -> Result<Tensor, ModelError> {
        validate::ids(words, self.cfg.vocab)?;
        validate::peers(peers, self.cfg.peers, words.len() as i64, self.cfg.out_dim)?;
        let _guard = tch::no_grad_guard();
        let local = self.emb.f_index_select(0, &Tensor::from_slice(words))?;
        self.hidden(&local, peers)
    }

    /// The served embedding of every word `[vocab, out_dim]`, for evaluation.
    pub fn embeddings(&self) -> Tensor {
        let ids: Vec<i64> = (0..self.cfg.vocab).collect();
        self.serve(&ids).unwrap_or_else(|_| {
            Tensor::zeros(
                [self.cfg.vocab, self.cfg.out_dim],
                (Kind::Float, tch::Device::Cpu),
            )
        })
    }

    /// The local embedding table `[vocab, embed_dim]` (a copy), e.g. to compare with the output.
    pub fn local_embeddings(&self) -> Tensor {
        self.emb.detach().copy()
    }
}
