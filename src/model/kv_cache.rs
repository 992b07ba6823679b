//! The key/value cache of incremental decoding.
//!
//! Per layer, keys and values live in one preallocated `[batch, capacity, kv_heads, head_dim]`
//! tensor; a step writes its new rows in place (`slice_set`) and attention reads the first `len`
//! positions as a strided view, so a decoding step copies only its own keys and values. Keys are
//! stored after RoPE. Capacity doubles when a step would overflow it.
//!
//! Alongside the tensors the cache keeps, per batch row, which cached positions are real tokens
//! (left padding is not) and the position id the row's next real token gets. A forward pass only
//! commits (advances `len`) after every layer has written its rows, so a failed step leaves the
//! cache as it was.

use super::config::LlamaConfig;
use super::llama_error::{LlamaError, LlamaResult};
use candle_core::{DType, Device, Tensor};

/// Keys and values of the tokens seen so far, for every layer and batch row.
#[derive(Debug)]
pub struct KvCache {
    batch: usize,
    kv_heads: usize,
    head_dim: usize,
    num_layers: usize,
    device: Device,
    capacity: usize,
    len: usize,
    /// `(keys, values)` per layer, `[batch, capacity, kv_heads, head_dim]`.
    layers: Vec<(Tensor, Tensor)>,
    /// `[batch][len]`: whether each cached position is a real token.
    real: Vec<Vec<bool>>,
    next_positions: Vec<u32>,
}

impl KvCache {
    /// An empty cache for `batch` sequences of `config`'s model, with room for `capacity`
    /// positions before it has to grow (prompt length + new tokens avoids any regrowth).
    pub fn new(
        config: &LlamaConfig,
        batch: usize,
        capacity: usize,
        device: &Device,
    ) -> LlamaResult<Self> {
        if batch == 0 {
            return Err(LlamaError::InvalidInput(
                "a KV cache needs at least one sequence".into(),
            ));
        }
        let mut cache = Self {
            batch,
            kv_heads: config.num_key_value_heads,
            head_dim: config.head_dim(),
            num_layers: config.num_hidden_layers,
            device: device.clone(),
            capacity: 0,
            len: 0,
            layers: Vec::new(),
            real: vec![Vec::new(); batch],
            next_positions: vec![0; batch],
        };
        cache.grow_to(capacity)?;
        Ok(cache)
    }

    /// Number of cached positions (padding included).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of sequences.
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Positions the cache holds before it has to grow.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The position id each row's next real token gets.
    pub fn next_positions(&self) -> &[u32] {
        &self.next_positions
    }

    pub(crate) fn check_compatible(&self, config: &LlamaConfig, batch: usize) -> LlamaResult<()> {
        if batch != self.batch {
            return Err(LlamaError::InvalidInput(format!(
                "the KV cache holds {} sequences but the input has {batch} rows",
                self.batch
            )));
        }
        if config.num_hidden_layers != self.num_layers
            || config.num_key_value_heads != self.kv_heads
            || config.head_dim() != self.head_dim
        {
            return Err(LlamaError::InvalidInput(
                "the KV cache was made for a model of another shape".into(),
            ));
        }
        Ok(())
    }

    fn grow_to(&mut self, capacity: usize) -> LlamaResult<()> {
        let shape = (self.batch, capacity, self.kv_heads, self.head_dim);
        let mut layers = Vec::with_capacity(self.num_layers);
        for layer in 0..self.num_layers {
            let keys = Tensor::zeros(shape, DType::F32, &self.device)?;
            let values = Tensor::zeros(shape, DType::F32, &self.device)?;
            if self.len > 0 {
                let (old_k, old_v) = &self.layers[layer];
                keys.slice_set(&old_k.narrow(1, 0, self.len)?.contiguous()?, 1, 0)?;
                values.slice_set(&old_v.narrow(1, 0, self.len)?.contiguous()?, 1, 0)?;
            }
            layers.push((keys, values));
        }
        self.layers = layers;
        self.capacity = capacity;
        Ok(())
    }

    /// Makes room for `new_len` more positions.
    pub(crate) fn reserve(&mut self, new_len: usize) -> LlamaResult<()> {
        let needed = self.len + new_len;
        if needed > self.capacity {
            self.grow_to(needed.max(2 * self.capacity))?;
        }
        Ok(())
    }

    /// The key mask over cached plus `new_real` (`[batch, new_len]`) positions, row-major.
    pub(crate) fn key_mask_with(&self, new_real: &[bool], new_len: usize) -> Vec<bool> {
        let mut mask = Vec::with_capacity(self.batch * (self.len + new_len));
        for (row, new) in self.real.iter().zip(new_real.chunks(new_len)) {
            mask.extend_from_slice(row);
            mask.extend_from_slice(new);
        }
        mask
    }

    /// Writes layer `layer`'s new keys and values (`[batch, new_len, kv_heads, head_dim]`, keys
    /// rotated) after the cached ones and returns views of all `len + new_len` positions.
    /// [`Self::reserve`] must have made room.
    pub(crate) fn append(
        &mut self,
        layer: usize,
        keys: &Tensor,
        values: &Tensor,
    ) -> LlamaResult<(Tensor, Tensor)> {
        let new_len = keys.dim(1)?;
        let (k_cache, v_cache) = &self.layers[layer];
        k_cache.slice_set(&keys.contiguous()?, 1, self.len)?;
        v_cache.slice_set(&values.contiguous()?, 1, self.len)?;
        let total = self.len + new_len;
        Ok((k_cache.narrow(1, 0, total)?, v_cache.narrow(1, 0, total)?))
    }

    /// Records a completed step: `new_len` positions, which of them are real, and their position
    /// ids (`[batch, new_len]`).
    pub(crate) fn commit(&mut self, new_real: &[bool], positions: &[u32], new_len: usize) {
        for (row, (real, pos)) in new_real
            .chunks(new_len)
            .zip(positions.chunks(new_len))
            .enumerate()
        {
            self.real[row].extend_from_slice(real);
            if let Some(last) = real.iter().rposition(|&r| r) {
                self.next_positions[row] = pos[last] + 1;
            }
        }
        self.len += new_len;
    }

    /// Keeps only the batch rows `rows` (in that order), e.g. to drop finished sequences from a
    /// generation batch so later steps do not compute them.
    pub fn retain_rows(&mut self, rows: &[usize]) -> LlamaResult<()> {
        if rows.is_empty() {
            return Err(LlamaError::InvalidInput(
                "a KV cache must keep at least one row".into(),
            ));
        }
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.batch) {
            return Err(LlamaError::InvalidInput(format!(
                "row {bad} is outside the KV cache's {} rows",
                self.batch
            )));
        }
        let index = Tensor::from_vec(
            rows.iter().map(|&r| r as u32).collect::<Vec<_>>(),
            rows.len(),
            &self.device,
        )?;
        for (keys, values) in &mut self.layers {
            *keys = keys.index_select(&index, 0)?;
            *values = values.index_select(&index, 0)?;
        }
        self.real = rows.iter().map(|&r| self.real[r].clone()).collect();
        self.next_positions = rows.iter().map(|&r| self.next_positions[r]).collect();
        self.batch = rows.len();
        Ok(())
    }
}
