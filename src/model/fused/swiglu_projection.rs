//! The first half of the SwiGLU MLP, `silu(x·W_gateᵀ) · (x·W_upᵀ)`, as one op: both projections,
//! the gate, and in the backward both weight gradients and the input gradient (`dg·W_gate +
//! du·W_up`, accumulated in one buffer).
//!
//! As separate nodes the two projections and the gate give candle's backward two intermediate-
//! sized gradient buffers to zero-fill and add (the largest activations of a block) plus two
//! accumulations into the input's gradient; fused, they cost none of those.

use super::cpu::{contiguous_f32, filled_vec, uninit_ptr, with_f32_slice, Accumulate};
use super::fast_math::{sigmoid, vectorized};
use super::linear::{linear_composed, project, project_input_grad, project_weight_grad};
use super::swiglu::swiglu_composed;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;
use std::sync::OnceLock;

const ELEMENTS_PER_TASK: usize = 16 * 1024;

/// The composed form: oracle and non-CPU path.
pub fn swiglu_projection_composed(x: &Tensor, gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    swiglu_composed(&linear_composed(x, gate)?, &linear_composed(x, up)?)
}

/// `silu(x·gateᵀ) · (x·upᵀ)` with the fused CPU op: `x: [.., in]`, `gate`, `up: [ff, in]` →
/// `[.., ff]`. Differentiable in all three.
pub fn swiglu_projection_fused(x: &Tensor, gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    let (ff, in_f) = gate.dims2()?;
    if up.dims() != [ff, in_f] || x.rank() == 0 || x.dim(D::Minus1)? != in_f {
        bail!(
            "swiglu projection: input {:?}, gate {:?} and up {:?} do not fit",
            x.dims(),
            gate.dims(),
            up.dims()
        )
    }
    let op = SwiGluProjectionOp {
        save_for_backward: x.track_op() || gate.track_op() || up.track_op(),
        saved: OnceLock::new(),
    };
    let (x, gate, up) = (x.contiguous()?, gate.contiguous()?, up.contiguous()?);
    if op.save_for_backward {
        x.apply_op3(&gate, &up, op)
    } else {
        x.apply_op3_no_bwd(&gate, &up, &op)
    }
}

struct SwiGluProjectionOp {
    save_for_backward: bool,
    /// The two projections, `[rows, ff]` each.
    saved: OnceLock<(Vec<f32>, Vec<f32>)>,
}

impl CustomOp3 for SwiGluProjectionOp {
    fn name(&self) -> &'static str {
        "tulu-swiglu-projection"
    }

    fn cpu_fwd(
        &self,
        x_storage: &CpuStorage,
        x_layout: &Layout,
        g_storage: &CpuStorage,
        g_layout: &Layout,
        u_storage: &CpuStorage,
        u_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(x_storage, x_layout, self.name())?;
        let w_gate = contiguous_f32(g_storage, g_layout, self.name())?;
        let w_up = contiguous_f32(u_storage, u_layout, self.name())?;
        let (ff, in_f) = g_layout.shape().dims2()?;
        let rows = x.len() / in_f.max(1);
        let gate = project(x, w_gate, rows, in_f, ff);
        let up = project(x, w_up, rows, in_f, ff);
        // SAFETY: every chunk writes each of its elements.
        let out = unsafe {
            filled_vec(rows * ff, |out| {
                out.par_chunks_mut(ELEMENTS_PER_TASK)
                    .zip(gate.par_chunks(ELEMENTS_PER_TASK))
                    .zip(up.par_chunks(ELEMENTS_PER_TASK))
                    .for_each(|((o, g), u)| {
                        vectorized(
                            #[inline(always)]
                            || {
                                for i in 0..o.len() {
                                    o[i].write(g[i] * sigmoid(g[i]) * u[i]);
                                }
                            },
                        )
                    })
            })
        };
        if self.save_for_backward {
            let _ = self.saved.set((gate, up));
        }
        let mut shape = x_layout.dims().to_vec();
        *shape.last_mut().expect("checked rank") = ff;
        Ok((CpuStorage::F32(out), shape.into()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w_gate: &Tensor,
        w_up: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some((gate, up)) = self.saved.get() else {
            bail!("tulu-swiglu-projection: backward without a saved forward pass")
        };
        let (ff, in_f) = w_gate.dims2()?;
        let rows = x.elem_count() / in_f.max(1);
        let mut d_gate = vec![0f32; gate.len()];
        let mut d_up = vec![0f32; up.len()];
        with_f32_slice(grad, self.name(), |dy| {
            d_gate
                .par_chunks_mut(ELEMENTS_PER_TASK)
                .zip(d_up.par_chunks_mut(ELEMENTS_PER_TASK))
                .zip(gate.par_chunks(ELEMENTS_PER_TASK))
                .zip(up.par_chunks(ELEMENTS_PER_TASK))
                .zip(dy.par_chunks(ELEMENTS_PER_TASK))
                .for_each(|((((dg, du), g), u), dy)| {
                    vectorized(
                        #[inline(always)]
                        || {
                            for i in 0..dg.len() {
                                let s = sigmoid(g[i]);
                                du[i] = dy[i] * g[i] * s;
                                dg[i] = dy[i] * u[i] * s * (1.0 + g[i] * (1.0 - s));
                            }
                        },
                    )
                });
            Ok(())
        })?;
        let (dx, dw_gate, dw_up) = with_f32_slice(x, self.name(), |xs| {
            with_f32_slice(w_gate, self.name(), |wg| {
                with_f32_slice(w_up, self.name(), |wu| {
                    let dims = (rows, in_f, ff);
                    // SAFETY: `dx` has the input's extent; the first product overwrites it and
                    // the second adds to it.
                    let dx = unsafe {
                        filled_vec(xs.len(), |dx| {
                            let dx = uninit_ptr(dx);
                            project_input_grad(&d_gate, wg, dims, dx, Accumulate::Overwrite);
                            project_input_grad(&d_up, wu, dims, dx, Accumulate::Add);
                        })
                    };
                    let dw_gate = project_weight_grad(&d_gate, xs, dims);
                    let dw_up = project_weight_grad(&d_up, xs, dims);
                    Ok((dx, dw_gate, dw_up))
                })
            })
        })?;
        let device = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), device)?),
            Some(Tensor::from_vec(dw_gate, w_gate.shape(), device)?),
            Some(Tensor::from_vec(dw_up, w_up.shape(), device)?),
        ))
    }
}
