//! SwiGLU's gate, `silu(gate) · up`, as one elementwise pass forward and one backward, instead of
//! the four candle ops (and their four backward nodes) of the composed form.

use super::cpu::{contiguous_f32, with_f32_slice};
use super::fast_math::sigmoid;
use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Elements per rayon task: large enough to amortise scheduling, small enough to balance.
const ELEMENTS_PER_TASK: usize = 16 * 1024;

/// The composed (differentiable candle ops) form: oracle and non-CPU path.
pub fn swiglu_composed(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    candle_nn::ops::silu(gate)?.mul(up)
}

/// `silu(gate) · up` with the fused CPU kernel; `gate` and `up` must have the same shape.
pub fn swiglu_fused(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    if gate.shape() != up.shape() {
        bail!(
            "swiglu: gate {:?} and up {:?} differ in shape",
            gate.dims(),
            up.dims()
        )
    }
    gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGluOp)
}

struct SwiGluOp;

impl CustomOp2 for SwiGluOp {
    fn name(&self) -> &'static str {
        "tulu-swiglu"
    }

    fn cpu_fwd(
        &self,
        g_storage: &CpuStorage,
        g_layout: &Layout,
        u_storage: &CpuStorage,
        u_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let gate = contiguous_f32(g_storage, g_layout, self.name())?;
        let up = contiguous_f32(u_storage, u_layout, self.name())?;
        let mut out = vec![0f32; gate.len()];
        out.par_chunks_mut(ELEMENTS_PER_TASK)
            .zip(gate.par_chunks(ELEMENTS_PER_TASK))
            .zip(up.par_chunks(ELEMENTS_PER_TASK))
            .for_each(|((o, g), u)| {
                for i in 0..o.len() {
                    o[i] = g[i] * sigmoid(g[i]) * u[i];
                }
            });
        Ok((CpuStorage::F32(out), g_layout.shape().clone()))
    }

    fn bwd(
        &self,
        gate: &Tensor,
        up: &Tensor,
        _out: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (d_gate, d_up) = with_f32_slice(gate, self.name(), |g| {
            with_f32_slice(up, self.name(), |u| {
                with_f32_slice(grad, self.name(), |dy| {
                    let mut d_gate = vec![0f32; g.len()];
                    let mut d_up = vec![0f32; g.len()];
                    d_gate
                        .par_chunks_mut(ELEMENTS_PER_TASK)
                        .zip(d_up.par_chunks_mut(ELEMENTS_PER_TASK))
                        .zip(g.par_chunks(ELEMENTS_PER_TASK))
                        .zip(u.par_chunks(ELEMENTS_PER_TASK))
                        .zip(dy.par_chunks(ELEMENTS_PER_TASK))
                        .for_each(|((((dg, du), g), u), dy)| {
                            for i in 0..dg.len() {
                                let s = sigmoid(g[i]);
                                let silu = g[i] * s;
                                du[i] = dy[i] * silu;
                                // silu'(g) = s · (1 + g · (1 − s))
                                dg[i] = dy[i] * u[i] * s * (1.0 + g[i] * (1.0 - s));
                            }
                        });
                    Ok((d_gate, d_up))
                })
            })
        })?;
        Ok((
            Some(Tensor::from_vec(d_gate, gate.shape(), gate.device())?),
            Some(Tensor::from_vec(d_up, up.shape(), up.device())?),
        ))
    }
}
