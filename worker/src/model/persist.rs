//! Saving and restoring a node's parameters (and its peer-input cache, so a restored node
//! serves exactly what it served before), with a configuration check on load.

use std::collections::HashMap;
use std::path::Path;

use tch::Tensor;

use super::adam::Adam;
use super::{Model, ModelError};

const CONFIG_KEY: &str = "config";

impl Model {
    fn named(&self) -> [(&'static str, &Tensor); 5] {
        [
            ("emb", &self.emb),
            ("weight", &self.weight),
            ("bias", &self.bias),
            ("context", &self.context),
            ("cache", &self.cache),
        ]
    }

    /// Sizes recorded with the parameters, checked on load.
    fn shape_key(&self) -> Vec<i64> {
        let c = &self.cfg;
        vec![c.vocab, c.embed_dim, c.out_dim, c.peers as i64]
    }

    /// Writes the parameters and cache to `path` (libtorch's tensor archive format).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let key = Tensor::from_slice(&self.shape_key());
        let mut named: Vec<(&str, &Tensor)> = self.named().to_vec();
        named.push((CONFIG_KEY, &key));
        Tensor::save_multi(&named, path).map_err(|e| ModelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    /// Replaces the parameters and cache with those saved at `path` by a model of the same sizes
    /// (the optimiser state restarts).
    pub fn load(&mut self, path: &Path) -> Result<(), ModelError> {
        if !path.exists() {
            return Err(ModelError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let saved: HashMap<String, Tensor> = Tensor::load_multi(path)
            .map_err(|e| ModelError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })?
            .into_iter()
            .collect();
        let key = saved
            .get(CONFIG_KEY)
            .ok_or_else(|| ModelError::Incompatible("no config record".into()))?;
        let key: Vec<i64> = Vec::<i64>::try_from(key)?;
        if key != self.shape_key() {
            return Err(ModelError::Incompatible(format!(
                "saved sizes [vocab, embed_dim, out_dim, peers] = {key:?}, this model {:?}",
                self.shape_key()
            )));
        }
        for (name, current) in self.named() {
            let value = saved
                .get(name)
                .ok_or_else(|| ModelError::Incompatible(format!("missing tensor {name}")))?;
            if value.size() != current.size() {
                return Err(ModelError::Incompatible(format!(
                    "tensor {name} has the wrong shape"
                )));
            }
        }
        let _guard = tch::no_grad_guard();
        for (name, dst) in [
            ("emb", &mut self.emb),
            ("weight", &mut self.weight),
            ("bias", &mut self.bias),
            ("context", &mut self.context),
            ("cache", &mut self.cache),
        ] {
            if let Some(src) = saved.get(name) {
                dst.f_copy_(src)?;
            }
        }
        self.adam = Adam::new(&[&self.emb, &self.weight, &self.bias, &self.context])?;
        Ok(())
    }
}
