//! Causal grouped-query attention with RoPE, as one op with a backward pass.
//!
//! Forward, per (batch row, query head), in blocks of [`QUERY_BLOCK`] query rows: `S = Q·Kᵀ·scale`
//! over only the keys the block can see (causality skips the rest), a masked softmax in place,
//! `O = P·V` written straight into the `[batch, len, heads·head_dim]` output that the output
//! projection consumes. Only the log-sum-exp of each row is kept; the backward recomputes `P`
//! from it (as FlashAttention does), so memory stays linear in the sequence length instead of
//! holding a `len × len` matrix per head and layer.
//!
//! Grouped-query attention reads each query head's key/value head (`kv = head / group`, HF's
//! `repeat_kv` order) in place; no repeated copies are made. The backward writes key/value
//! gradients per query head and sums each group afterwards, in head order, so results do not
//! depend on thread scheduling.
//!
//! Masking: a key is visible to a query when it is not later in the sequence and, if a key mask
//! is given, when the mask marks it real. A query that sees no key at all (a left-padding
//! position) outputs zeros and passes no gradient.

use super::cpu::{
    contiguous_f32, filled_vec, matmul, uninit_ptr, with_f32_slice, Accumulate, MatMut, MatRef,
    SharedMutPtr, Threads,
};
use super::fast_math::{exp, vectorized};
use crate::model::rope::{rope_composed, RopeAngles, Rotation};
use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// Query rows per block: bounds the score scratch to `QUERY_BLOCK × keys` per task.
const QUERY_BLOCK: usize = 64;

/// The head layout of one attention layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionHeads {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

impl AttentionHeads {
    fn group(&self) -> usize {
        self.heads / self.kv_heads
    }

    fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }

    fn check(&self) -> Result<()> {
        if self.heads == 0 || self.kv_heads == 0 || self.head_dim == 0 {
            bail!("attention: heads, kv_heads and head_dim must be positive, got {self:?}")
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            bail!(
                "attention: {} query heads cannot be grouped over {} key/value heads",
                self.heads,
                self.kv_heads
            )
        }
        Ok(())
    }
}

/// A `[batch, position, head, dim]` view with unit stride along `dim`.
#[derive(Clone, Copy)]
struct HeadsView {
    ptr: *const f32,
    batch_stride: usize,
    pos_stride: usize,
    head_stride: usize,
}

// SAFETY: views are only read, and only while the buffer they point into is alive (the calling
// function holds it across the parallel loop).
unsafe impl Send for HeadsView {}
unsafe impl Sync for HeadsView {}

impl HeadsView {
    /// Row-major `[batch, pos, heads, dim]`.
    fn token_major(ptr: *const f32, len: usize, heads: usize, dim: usize) -> Self {
        Self {
            ptr,
            batch_stride: len * heads * dim,
            pos_stride: heads * dim,
            head_stride: dim,
        }
    }

    /// Row-major `[batch, heads, pos, dim]`.
    fn head_major(ptr: *const f32, len: usize, heads: usize, dim: usize) -> Self {
        Self {
            ptr,
            batch_stride: heads * len * dim,
            pos_stride: dim,
            head_stride: len * dim,
        }
    }

    /// The `[positions, dim]` matrix of one (batch, head), starting at position `pos`.
    fn rows(&self, batch: usize, head: usize, pos: usize) -> MatRef {
        let offset = batch * self.batch_stride + head * self.head_stride + pos * self.pos_stride;
        MatRef::new(self.ptr.wrapping_add(offset), self.pos_stride, 1)
    }
}

/// Everything one attention call needs besides the tensors.
struct AttentionProblem<'a> {
    batch: usize,
    q_len: usize,
    kv_len: usize,
    heads: AttentionHeads,
    /// `[batch, kv_len]`, true where a key is a real token.
    key_valid: Option<&'a [bool]>,
}

impl AttentionProblem<'_> {
    /// Key index of query row 0: queries are the last `q_len` positions of the key sequence.
    fn q_offset(&self) -> usize {
        self.kv_len - self.q_len
    }

    fn valid_keys(&self, batch: usize) -> Option<&[bool]> {
        self.key_valid
            .map(|mask| &mask[batch * self.kv_len..(batch + 1) * self.kv_len])
    }
}

#[inline(always)]
fn max_of(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for i in 0..8 {
            lanes[i] = if chunk[i] > lanes[i] {
                chunk[i]
            } else {
                lanes[i]
            };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &v in lanes.iter().chain(chunks.remainder()) {
        if v > max {
            max = v;
        }
    }
    max
}

#[inline(always)]
fn sum_of(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for i in 0..8 {
            lanes[i] += chunk[i];
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Turns one row of scores (all `keys` columns of the block) into probabilities over the first
/// `visible` keys, zeroing the rest; returns the row's log-sum-exp, `+∞` when no key is visible.
#[inline(always)]
fn softmax_row(row: &mut [f32], visible: usize, valid: Option<&[bool]>) -> f32 {
    let (seen, unseen) = row.split_at_mut(visible);
    unseen.fill(0.0);
    let max = match valid {
        None => max_of(seen),
        Some(valid) => {
            let mut max = f32::NEG_INFINITY;
            for (&s, &ok) in seen.iter().zip(valid) {
                if ok && s > max {
                    max = s;
                }
            }
            max
        }
    };
    if max == f32::NEG_INFINITY {
        seen.fill(0.0);
        return f32::INFINITY;
    }
    match valid {
        None => seen.iter_mut().for_each(|s| *s = exp(*s - max)),
        Some(valid) => {
            for (s, &ok) in seen.iter_mut().zip(valid) {
                *s = if ok { exp(*s - max) } else { 0.0 };
            }
        }
    }
    let sum = sum_of(seen);
    let inv = 1.0 / sum;
    seen.iter_mut().for_each(|s| *s *= inv);
    max + sum.ln()
}

/// Recomputes one row of probabilities from its scores and saved log-sum-exp.
#[inline(always)]
fn probabilities_row(row: &mut [f32], visible: usize, valid: Option<&[bool]>, lse: f32) {
    let (seen, unseen) = row.split_at_mut(visible);
    unseen.fill(0.0);
    if lse == f32::INFINITY {
        seen.fill(0.0);
        return;
    }
    match valid {
        None => seen.iter_mut().for_each(|s| *s = exp(*s - lse)),
        Some(valid) => {
            for (s, &ok) in seen.iter_mut().zip(valid) {
                *s = if ok { exp(*s - lse) } else { 0.0 };
            }
        }
    }
}

/// Forward pass; writes the output `[batch, q_len, heads, dim]` (token-major) and returns the
/// log-sum-exp of every row, `[batch, heads, q_len]`.
///
/// # Safety
/// `q` must cover `[batch, q_len, heads, dim]`, `k`/`v` `[batch, kv_len, kv_heads, dim]`, and
/// `out` must hold `batch · q_len · heads · dim` elements no one else accesses meanwhile.
unsafe fn attention_forward(
    problem: &AttentionProblem<'_>,
    q: HeadsView,
    k: HeadsView,
    v: HeadsView,
    out: SharedMutPtr,
) -> Vec<f32> {
    let AttentionHeads {
        heads, head_dim, ..
    } = problem.heads;
    let group = problem.heads.group();
    let scale = problem.heads.scale();
    let (q_len, q_offset) = (problem.q_len, problem.q_offset());
    let mut lse = vec![0f32; problem.batch * heads * q_len];
    if q_len == 0 {
        return lse;
    }
    let out_view = HeadsView::token_major(out.0, q_len, heads, head_dim);
    lse.par_chunks_mut(q_len)
        .enumerate()
        .for_each(|(batch_head, lse)| {
            let (b, h) = (batch_head / heads, batch_head % heads);
            let kv = h / group;
            let valid = problem.valid_keys(b);
            let mut scores = vec![0f32; QUERY_BLOCK.min(q_len) * problem.kv_len];
            for block_start in (0..q_len).step_by(QUERY_BLOCK) {
                let rows = QUERY_BLOCK.min(q_len - block_start);
                let keys = q_offset + block_start + rows;
                let scores = &mut scores[..rows * keys];
                matmul(
                    rows,
                    keys,
                    head_dim,
                    MatMut::new(scores.as_mut_ptr(), keys, 1),
                    Accumulate::Overwrite,
                    q.rows(b, h, block_start),
                    k.rows(b, kv, 0).t(),
                    scale,
                    Threads::Single,
                );
                vectorized(
                    #[inline(always)]
                    || {
                        for (r, row) in scores.chunks_exact_mut(keys).enumerate() {
                            let visible = q_offset + block_start + r + 1;
                            lse[block_start + r] = softmax_row(row, visible, valid);
                        }
                    },
                );
                let dst = out_view.rows(b, h, block_start);
                matmul(
                    rows,
                    head_dim,
                    keys,
                    MatMut::new(dst.ptr as *mut f32, out_view.pos_stride, 1),
                    Accumulate::Overwrite,
                    MatRef::new(scores.as_ptr(), keys, 1),
                    v.rows(b, kv, 0),
                    1.0,
                    Threads::Single,
                );
            }
        });
    lse
}

/// Gradients with respect to the (rotated) queries, keys and values.
struct AttentionGrads {
    /// `[batch, heads, q_len, dim]`.
    dq: Vec<f32>,
    /// Per query head, `[batch, heads, kv_len, dim]`: groups are summed by the caller.
    dk_per_head: Vec<f32>,
    dv_per_head: Vec<f32>,
}

/// Backward pass, recomputing the probabilities from `lse`.
///
/// # Safety
/// As for [`attention_forward`]; `out` and `d_out` cover `[batch, q_len, heads, dim]`.
unsafe fn attention_backward(
    problem: &AttentionProblem<'_>,
    q: HeadsView,
    k: HeadsView,
    v: HeadsView,
    out: HeadsView,
    d_out: HeadsView,
    lse: &[f32],
) -> AttentionGrads {
    let AttentionHeads {
        heads, head_dim, ..
    } = problem.heads;
    let group = problem.heads.group();
    let scale = problem.heads.scale();
    let (q_len, kv_len, q_offset) = (problem.q_len, problem.kv_len, problem.q_offset());
    let batch_heads = problem.batch * heads;
    let mut dk_per_head = vec![0f32; batch_heads * kv_len * head_dim];
    let mut dv_per_head = vec![0f32; batch_heads * kv_len * head_dim];
    if q_len == 0 {
        return AttentionGrads {
            dq: Vec::new(),
            dk_per_head,
            dv_per_head,
        };
    }
    // Every query row of every (batch, head) gets its dQ block written (overwrite) below.
    let dq = filled_vec(batch_heads * q_len * head_dim, |dq| {
        dq.par_chunks_mut(q_len * head_dim)
            .zip(dk_per_head.par_chunks_mut(kv_len * head_dim))
            .zip(dv_per_head.par_chunks_mut(kv_len * head_dim))
            .enumerate()
            .for_each(|(batch_head, ((dq, dk), dv))| {
                let (b, h) = (batch_head / heads, batch_head % heads);
                let kv = h / group;
                let valid = problem.valid_keys(b);
                let lse = &lse[batch_head * q_len..(batch_head + 1) * q_len];
                let block = QUERY_BLOCK.min(q_len);
                let mut probs = vec![0f32; block * kv_len];
                let mut d_scores = vec![0f32; block * kv_len];
                let mut delta = vec![0f32; block];
                for block_start in (0..q_len).step_by(QUERY_BLOCK) {
                    let rows = QUERY_BLOCK.min(q_len - block_start);
                    let keys = q_offset + block_start + rows;
                    let probs = &mut probs[..rows * keys];
                    let d_scores = &mut d_scores[..rows * keys];
                    let q_block = q.rows(b, h, block_start);
                    let d_out_block = d_out.rows(b, h, block_start);
                    matmul(
                        rows,
                        keys,
                        head_dim,
                        MatMut::new(probs.as_mut_ptr(), keys, 1),
                        Accumulate::Overwrite,
                        q_block,
                        k.rows(b, kv, 0).t(),
                        scale,
                        Threads::Single,
                    );
                    for (r, row) in probs.chunks_exact_mut(keys).enumerate() {
                        let visible = q_offset + block_start + r + 1;
                        probabilities_row(row, visible, valid, lse[block_start + r]);
                    }
                    // dV += Pᵀ · dO
                    matmul(
                        keys,
                        head_dim,
                        rows,
                        MatMut::new(dv.as_mut_ptr(), head_dim, 1),
                        Accumulate::Add,
                        MatRef::new(probs.as_ptr(), keys, 1).t(),
                        d_out_block,
                        1.0,
                        Threads::Single,
                    );
                    // dP = dO · Vᵀ
                    matmul(
                        rows,
                        keys,
                        head_dim,
                        MatMut::new(d_scores.as_mut_ptr(), keys, 1),
                        Accumulate::Overwrite,
                        d_out_block,
                        v.rows(b, kv, 0).t(),
                        1.0,
                        Threads::Single,
                    );
                    // δᵢ = Σ_d dOᵢ·Oᵢ equals Σ_j Pᵢⱼ·dPᵢⱼ, the softmax backward's row term.
                    let out_block = out.rows(b, h, block_start);
                    for (r, d) in delta[..rows].iter_mut().enumerate() {
                        let o = std::slice::from_raw_parts(
                            out_block.ptr.offset(r as isize * out_block.row_stride),
                            head_dim,
                        );
                        let g = std::slice::from_raw_parts(
                            d_out_block.ptr.offset(r as isize * d_out_block.row_stride),
                            head_dim,
                        );
                        *d = o.iter().zip(g).map(|(a, b)| a * b).sum();
                    }
                    // dS = P ∘ (dP − δ)
                    vectorized(
                        #[inline(always)]
                        || {
                            for ((ds_row, p_row), &d) in d_scores
                                .chunks_exact_mut(keys)
                                .zip(probs.chunks_exact(keys))
                                .zip(&delta[..rows])
                            {
                                for (ds, &p) in ds_row.iter_mut().zip(p_row) {
                                    *ds = p * (*ds - d);
                                }
                            }
                        },
                    );
                    // dQ = scale · dS · K
                    matmul(
                        rows,
                        head_dim,
                        keys,
                        MatMut::new(uninit_ptr(dq).add(block_start * head_dim), head_dim, 1),
                        Accumulate::Overwrite,
                        MatRef::new(d_scores.as_ptr(), keys, 1),
                        k.rows(b, kv, 0),
                        scale,
                        Threads::Single,
                    );
                    // dK += scale · dSᵀ · Q
                    matmul(
                        keys,
                        head_dim,
                        rows,
                        MatMut::new(dk.as_mut_ptr(), head_dim, 1),
                        Accumulate::Add,
                        MatRef::new(d_scores.as_ptr(), keys, 1).t(),
                        q_block,
                        scale,
                        Threads::Single,
                    );
                }
            });
    });
    AttentionGrads {
        dq,
        dk_per_head,
        dv_per_head,
    }
}

/// Validates `[batch, len, heads·head_dim]`-shaped projections and returns `(batch, len)`.
fn check_projections(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
) -> Result<(usize, usize)> {
    heads.check()?;
    let (batch, len, q_width) = q.dims3()?;
    let expect_kv = [batch, len, heads.kv_heads * heads.head_dim];
    if q_width != heads.heads * heads.head_dim || k.dims() != expect_kv || v.dims() != expect_kv {
        bail!(
            "attention: q {:?}, k {:?}, v {:?} do not fit {heads:?}",
            q.dims(),
            k.dims(),
            v.dims()
        )
    }
    Ok((batch, len))
}

fn check_key_mask(key_valid: Option<&[bool]>, batch: usize, kv_len: usize) -> Result<()> {
    match key_valid {
        Some(mask) if mask.len() != batch * kv_len => bail!(
            "attention: key mask has {} entries, expected batch {batch} × keys {kv_len}",
            mask.len()
        ),
        _ => Ok(()),
    }
}

/// Causal self-attention with RoPE over projections `q: [batch, len, heads·head_dim]`,
/// `k`, `v: [batch, len, kv_heads·head_dim]`; returns `[batch, len, heads·head_dim]`.
/// `angles` covers the `batch · len` tokens; `key_valid` (`[batch, len]`, true for real tokens)
/// hides padding keys. Fused CPU kernel, differentiable in `q`, `k` and `v`.
pub fn self_attention_fused(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
    angles: &Arc<RopeAngles>,
    key_valid: Option<&[bool]>,
) -> Result<Tensor> {
    let (batch, len) = check_projections(q, k, v, heads)?;
    check_key_mask(key_valid, batch, len)?;
    if angles.tokens() != batch * len || angles.head_dim() != heads.head_dim {
        bail!(
            "attention: RoPE angles cover {} tokens of head_dim {}, expected {} of {}",
            angles.tokens(),
            angles.head_dim(),
            batch * len,
            heads.head_dim
        )
    }
    let track = q.track_op() || k.track_op() || v.track_op();
    let op = SelfAttentionOp {
        heads,
        batch,
        len,
        angles: angles.clone(),
        key_valid: key_valid.map(Arc::from),
        saved: OnceLock::new(),
        save_for_backward: track,
    };
    let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
    if track {
        q.apply_op3(&k, &v, op)
    } else {
        q.apply_op3_no_bwd(&k, &v, &op)
    }
}

/// The composed (differentiable candle ops) form of [`self_attention_fused`]: its test oracle and
/// the path on devices without the fused kernel.
pub fn self_attention_composed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
    angles: &RopeAngles,
    key_valid: Option<&[bool]>,
) -> Result<Tensor> {
    let (batch, len) = check_projections(q, k, v, heads)?;
    check_key_mask(key_valid, batch, len)?;
    let AttentionHeads {
        heads: n_heads,
        kv_heads,
        head_dim,
    } = heads;
    let q = rope_composed(&q.reshape((batch, len, n_heads, head_dim))?, angles)?;
    let k = rope_composed(&k.reshape((batch, len, kv_heads, head_dim))?, angles)?;
    let v = v.reshape((batch, len, kv_heads, head_dim))?;
    cached_attention_composed(&q, &k, &v, heads, key_valid)
}

/// Attention of new queries over a key/value cache, for inference (no backward).
/// `q: [batch, q_len, heads, head_dim]` already rotated; `k`, `v: [batch, kv_len, kv_heads,
/// head_dim]` (strided views into a cache are fine) with keys already rotated; the queries are the
/// last `q_len` positions of the key sequence. Returns `[batch, q_len, heads·head_dim]`.
pub fn cached_attention_fused(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
    key_valid: Option<&[bool]>,
) -> Result<Tensor> {
    let (batch, _q_len, kv_len) = check_cached(q, k, v, heads)?;
    check_key_mask(key_valid, batch, kv_len)?;
    let op = CachedAttentionOp {
        heads,
        key_valid: key_valid.map(Arc::from),
    };
    let k = unit_dim_stride(k)?;
    let v = unit_dim_stride(v)?;
    q.contiguous()?.apply_op3_no_bwd(&k, &v, &op)
}

/// The composed form of [`cached_attention_fused`] (differentiable, any device).
pub fn cached_attention_composed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
    key_valid: Option<&[bool]>,
) -> Result<Tensor> {
    let (batch, q_len, kv_len) = check_cached(q, k, v, heads)?;
    check_key_mask(key_valid, batch, kv_len)?;
    let AttentionHeads {
        heads: n_heads,
        kv_heads,
        head_dim,
    } = heads;
    let group = heads.group();
    let device = q.device();
    let repeat = |t: &Tensor| -> Result<Tensor> {
        let t = t.transpose(1, 2)?; // [batch, kv_heads, kv_len, dim]
        if group == 1 {
            return t.contiguous();
        }
        t.unsqueeze(2)?
            .broadcast_as((batch, kv_heads, group, kv_len, head_dim))?
            .contiguous()?
            .reshape((batch, n_heads, kv_len, head_dim))
    };
    let q = q.transpose(1, 2)?.contiguous()?; // [batch, heads, q_len, dim]
    let k = repeat(k)?;
    let v = repeat(v)?;
    let scores = (q.matmul(&k.t()?.contiguous()?)? * heads.scale() as f64)?;
    // Additive bias rather than -inf, so that a row with no visible key stays finite; such rows
    // are then zeroed by `row_has_keys`.
    let q_offset = kv_len - q_len;
    let mut bias = vec![0f32; batch * q_len * kv_len];
    let mut row_has_keys = vec![0f32; batch * q_len];
    for b in 0..batch {
        for i in 0..q_len {
            for j in 0..kv_len {
                let visible = j <= q_offset + i && key_valid.is_none_or(|m| m[b * kv_len + j]);
                if visible {
                    row_has_keys[b * q_len + i] = 1.0;
                } else {
                    bias[(b * q_len + i) * kv_len + j] = -1e30;
                }
            }
        }
    }
    let bias = Tensor::from_vec(bias, (batch, 1, q_len, kv_len), device)?;
    let row_has_keys = Tensor::from_vec(row_has_keys, (batch, 1, q_len, 1), device)?;
    let probs =
        candle_nn::ops::softmax(&scores.broadcast_add(&bias)?, 3)?.broadcast_mul(&row_has_keys)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .reshape((batch, q_len, n_heads * head_dim))
}

fn check_cached(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: AttentionHeads,
) -> Result<(usize, usize, usize)> {
    heads.check()?;
    let (batch, q_len, q_heads, q_dim) = q.dims4()?;
    let (k_batch, kv_len, k_heads, k_dim) = k.dims4()?;
    if q_heads != heads.heads
        || q_dim != heads.head_dim
        || k_batch != batch
        || k_heads != heads.kv_heads
        || k_dim != heads.head_dim
        || v.dims() != k.dims()
        || kv_len < q_len
    {
        bail!(
            "cached attention: q {:?}, k {:?}, v {:?} do not fit {heads:?} (keys must include \
             the queries' own positions)",
            q.dims(),
            k.dims(),
            v.dims()
        )
    }
    Ok((batch, q_len, kv_len))
}

fn unit_dim_stride(t: &Tensor) -> Result<Tensor> {
    if t.stride()[3] == 1 {
        Ok(t.clone())
    } else {
        t.contiguous()
    }
}

/// Reads a strided `[batch, pos, heads, dim]` CPU view (unit stride on `dim`).
fn strided_view(storage: &CpuStorage, layout: &Layout, op: &'static str) -> Result<HeadsView> {
    let data = match storage {
        CpuStorage::F32(data) => data,
        other => bail!("{op}: expects f32 tensors, got {:?}", other.dtype()),
    };
    let stride = layout.stride();
    let dims = layout.dims();
    if dims.len() != 4 || stride[3] != 1 {
        bail!("{op}: expects a [batch, pos, heads, dim] view with unit dim stride")
    }
    // The furthest element a non-empty view reaches must lie inside the storage.
    if dims.iter().all(|&d| d > 0) {
        let last = layout.start_offset()
            + dims
                .iter()
                .zip(stride)
                .map(|(&d, &s)| (d - 1) * s)
                .sum::<usize>();
        if last >= data.len() {
            bail!("{op}: view reaches past its storage")
        }
    }
    Ok(HeadsView {
        ptr: data.as_ptr().wrapping_add(layout.start_offset()),
        batch_stride: stride[0],
        pos_stride: stride[1],
        head_stride: stride[2],
    })
}

struct CachedAttentionOp {
    heads: AttentionHeads,
    key_valid: Option<Arc<[bool]>>,
}

impl CustomOp3 for CachedAttentionOp {
    fn name(&self) -> &'static str {
        "tulu-cached-attention"
    }

    fn cpu_fwd(
        &self,
        q_storage: &CpuStorage,
        q_layout: &Layout,
        k_storage: &CpuStorage,
        k_layout: &Layout,
        v_storage: &CpuStorage,
        v_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let q = contiguous_f32(q_storage, q_layout, self.name())?;
        let (batch, q_len, heads, head_dim) = q_layout.shape().dims4()?;
        let kv_len = k_layout.dims()[1];
        let problem = AttentionProblem {
            batch,
            q_len,
            kv_len,
            heads: self.heads,
            key_valid: self.key_valid.as_deref(),
        };
        let k = strided_view(k_storage, k_layout, self.name())?;
        let v = strided_view(v_storage, v_layout, self.name())?;
        // SAFETY: shapes were checked by `check_cached`; the forward pass writes every output row.
        let out = unsafe {
            filled_vec(q.len(), |out| {
                attention_forward(
                    &problem,
                    HeadsView::token_major(q.as_ptr(), q_len, heads, head_dim),
                    k,
                    v,
                    SharedMutPtr(uninit_ptr(out)),
                );
            })
        };
        Ok((
            CpuStorage::F32(out),
            Shape::from((batch, q_len, heads * head_dim)),
        ))
    }
}

/// What the backward pass needs from the forward.
struct SavedForBackward {
    /// `[batch, heads, len, dim]`, rotated.
    q_rot: Vec<f32>,
    /// `[batch, kv_heads, len, dim]`, rotated.
    k_rot: Vec<f32>,
    /// `[batch, heads, len]`.
    lse: Vec<f32>,
}

struct SelfAttentionOp {
    heads: AttentionHeads,
    batch: usize,
    len: usize,
    angles: Arc<RopeAngles>,
    key_valid: Option<Arc<[bool]>>,
    save_for_backward: bool,
    saved: OnceLock<SavedForBackward>,
}

impl SelfAttentionOp {
    fn problem(&self) -> AttentionProblem<'_> {
        AttentionProblem {
            batch: self.batch,
            q_len: self.len,
            kv_len: self.len,
            heads: self.heads,
            key_valid: self.key_valid.as_deref(),
        }
    }

    /// Rotates token-major `[batch, len, n_heads, dim]` into head-major `[batch, n_heads, len, dim]`.
    fn rotate_to_head_major(&self, x: &[f32], n_heads: usize) -> Vec<f32> {
        let (len, dim) = (self.len, self.heads.head_dim);
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(len * dim)
            .enumerate()
            .for_each(|(batch_head, dst)| {
                let (b, h) = (batch_head / n_heads, batch_head % n_heads);
                for t in 0..len {
                    let token = b * len + t;
                    let src = &x[(token * n_heads + h) * dim..][..dim];
                    self.angles.rotate(
                        token,
                        src,
                        &mut dst[t * dim..(t + 1) * dim],
                        Rotation::Forward,
                    );
                }
            });
        out
    }
}

impl CustomOp3 for SelfAttentionOp {
    fn name(&self) -> &'static str {
        "tulu-self-attention"
    }

    fn cpu_fwd(
        &self,
        q_storage: &CpuStorage,
        q_layout: &Layout,
        k_storage: &CpuStorage,
        k_layout: &Layout,
        v_storage: &CpuStorage,
        v_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let q = contiguous_f32(q_storage, q_layout, self.name())?;
        let k = contiguous_f32(k_storage, k_layout, self.name())?;
        let v = contiguous_f32(v_storage, v_layout, self.name())?;
        let AttentionHeads {
            heads,
            kv_heads,
            head_dim,
        } = self.heads;
        let len = self.len;
        let q_rot = self.rotate_to_head_major(q, heads);
        let k_rot = self.rotate_to_head_major(k, kv_heads);
        let mut lse = Vec::new();
        // SAFETY: the views cover the buffers checked in `self_attention_fused`; the forward pass
        // writes every output row.
        let out = unsafe {
            filled_vec(q.len(), |out| {
                lse = attention_forward(
                    &self.problem(),
                    HeadsView::head_major(q_rot.as_ptr(), len, heads, head_dim),
                    HeadsView::head_major(k_rot.as_ptr(), len, kv_heads, head_dim),
                    HeadsView::token_major(v.as_ptr(), len, kv_heads, head_dim),
                    SharedMutPtr(uninit_ptr(out)),
                )
            })
        };
        if self.save_for_backward {
            // A fresh op is built per call, so the cell is always empty here.
            let _ = self.saved.set(SavedForBackward { q_rot, k_rot, lse });
        }
        Ok((CpuStorage::F32(out), q_layout.shape().clone()))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some(saved) = self.saved.get() else {
            bail!("tulu-self-attention: backward without a saved forward pass")
        };
        let AttentionHeads {
            heads,
            kv_heads,
            head_dim,
        } = self.heads;
        let (batch, len) = (self.batch, self.len);
        let group = self.heads.group();
        let grads = with_f32_slice(v, self.name(), |v| {
            with_f32_slice(out, self.name(), |o| {
                with_f32_slice(grad, self.name(), |g| {
                    // SAFETY: every buffer has the shape the forward pass had.
                    Ok(unsafe {
                        attention_backward(
                            &self.problem(),
                            HeadsView::head_major(saved.q_rot.as_ptr(), len, heads, head_dim),
                            HeadsView::head_major(saved.k_rot.as_ptr(), len, kv_heads, head_dim),
                            HeadsView::token_major(v.as_ptr(), len, kv_heads, head_dim),
                            HeadsView::token_major(o.as_ptr(), len, heads, head_dim),
                            HeadsView::token_major(g.as_ptr(), len, heads, head_dim),
                            &saved.lse,
                        )
                    })
                })
            })
        })?;
        // Back to token-major layouts; undo the rotation on q and k; sum each head group.
        let tokens = batch * len;
        let mut dq = vec![0f32; tokens * heads * head_dim];
        let mut dk = vec![0f32; tokens * kv_heads * head_dim];
        let mut dv = vec![0f32; tokens * kv_heads * head_dim];
        let at = |b: usize, h: usize, t: usize| ((b * heads + h) * len + t) * head_dim;
        dq.par_chunks_mut(heads * head_dim)
            .zip(dk.par_chunks_mut(kv_heads * head_dim))
            .zip(dv.par_chunks_mut(kv_heads * head_dim))
            .enumerate()
            .for_each(|(token, ((dq, dk), dv))| {
                let (b, t) = (token / len, token % len);
                for h in 0..heads {
                    let src = &grads.dq[at(b, h, t)..][..head_dim];
                    let dst = &mut dq[h * head_dim..(h + 1) * head_dim];
                    self.angles.rotate(token, src, dst, Rotation::Inverse);
                }
                let mut sum = vec![0f32; head_dim];
                for kv in 0..kv_heads {
                    let dst_k = &mut dk[kv * head_dim..(kv + 1) * head_dim];
                    sum.fill(0.0);
                    for h in kv * group..(kv + 1) * group {
                        for (s, &x) in sum.iter_mut().zip(&grads.dk_per_head[at(b, h, t)..]) {
                            *s += x;
                        }
                    }
                    self.angles.rotate(token, &sum, dst_k, Rotation::Inverse);
                    let dst_v = &mut dv[kv * head_dim..(kv + 1) * head_dim];
                    for h in kv * group..(kv + 1) * group {
                        for (s, &x) in dst_v.iter_mut().zip(&grads.dv_per_head[at(b, h, t)..]) {
                            *s += x;
                        }
                    }
                }
            });
        let device = q.device();
        Ok((
            Some(Tensor::from_vec(dq, q.shape(), device)?),
            Some(Tensor::from_vec(dk, k.shape(), device)?),
            Some(Tensor::from_vec(dv, v.shape(), device)?),
        ))
    }
}
