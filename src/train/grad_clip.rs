//! Global-norm gradient clipping, as PyTorch's `clip_grad_norm_`: the L2 norm over all
//! gradients together, `‖g‖ = √Σᵢ‖gᵢ‖²`, and when it exceeds `max_norm` every gradient is scaled
//! by `max_norm / (‖g‖ + 10⁻⁶)`. The scaling is not applied here: the coefficient is folded into
//! the optimizer's update, which reads every gradient anyway.

use super::error::{ensure_config, TrainResult};
use super::host_tensor::with_host_f32;
use candle_core::{DType, Tensor};
use rayon::prelude::*;

/// Elements per partial sum. Fixed, so the norm is bit-identical on any number of threads.
const CHUNK: usize = 1 << 14;

/// `Σ x²` over a tensor's elements, accumulated in f64.
fn sum_of_squares(tensor: &Tensor) -> TrainResult<f64> {
    let host = with_host_f32(tensor, |data| {
        let partials: Vec<f64> = data
            .par_chunks(CHUNK)
            .map(|chunk| {
                // Eight lanes in f32 keep the loop vectorised; a chunk is short enough for
                // f32 partials, and the chunk sums are combined in f64.
                let mut lanes = [0f32; 8];
                let mut exact = chunk.chunks_exact(8);
                for block in &mut exact {
                    for i in 0..8 {
                        lanes[i] += block[i] * block[i];
                    }
                }
                let tail: f32 = exact.remainder().iter().map(|x| x * x).sum();
                lanes.iter().map(|&l| l as f64).sum::<f64>() + tail as f64
            })
            .collect();
        partials.iter().sum::<f64>()
    });
    match host {
        Some(sum) => Ok(sum),
        None => Ok(tensor
            .to_dtype(DType::F64)?
            .sqr()?
            .sum_all()?
            .to_scalar::<f64>()?),
    }
}

/// The global L2 norm of all present gradients (`None` entries count as zero).
pub fn global_grad_norm(grads: &[Option<Tensor>]) -> TrainResult<f64> {
    let mut total = 0.0;
    for grad in grads.iter().flatten() {
        total += sum_of_squares(grad)?;
    }
    Ok(total.sqrt())
}

/// The factor every gradient is multiplied by: `min(1, max_norm / (norm + 10⁻⁶))`, or 1 without
/// clipping.
pub fn clip_coefficient(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(max) => (max / (norm + 1e-6)).min(1.0),
        None => 1.0,
    }
}

/// Checks a `max_grad_norm` setting.
pub fn validate_max_grad_norm(max_norm: Option<f64>) -> TrainResult<()> {
    match max_norm {
        Some(max) => {
            ensure_config(max.is_finite() && max > 0.0, || {
                format!("max_grad_norm must be a positive number (or absent for no clipping), got {max}")
            })
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn global_norm_covers_all_gradients_and_clipping_scales_only_above_the_limit() {
        let a = Tensor::new(&[3f32, 0.0], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[0f32, 4.0], [0.0, 12.0]], &Device::Cpu).unwrap();
        let norm = global_grad_norm(&[Some(a), None, Some(b)]).unwrap();
        assert!((norm - 13.0).abs() < 1e-12);
        assert_eq!(clip_coefficient(norm, None), 1.0);
        assert_eq!(clip_coefficient(norm, Some(100.0)), 1.0);
        let c = clip_coefficient(norm, Some(1.0));
        assert!((c - 1.0 / (13.0 + 1e-6)).abs() < 1e-15);
        assert!(validate_max_grad_norm(Some(0.0)).is_err());
        assert!(validate_max_grad_norm(Some(f64::INFINITY)).is_err());
        assert!(validate_max_grad_norm(None).is_ok());
    }

    #[test]
    fn host_kernel_matches_the_generic_path_on_large_and_strided_tensors() {
        let n = 3 * CHUNK + 17;
        let data: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) / 7.0).collect();
        let t = Tensor::from_vec(data.clone(), n, &Device::Cpu).unwrap();
        let exact: f64 = data.iter().map(|&x| (x as f64) * (x as f64)).sum();
        let host = sum_of_squares(&t).unwrap();
        assert!((host - exact).abs() / exact < 1e-6, "{host} vs {exact}");
        // A transposed view takes the generic path and gives the same value.
        let m = Tensor::from_vec(data[..(n / 2) * 2].to_vec(), (n / 2, 2), &Device::Cpu)
            .unwrap()
            .t()
            .unwrap();
        let exact: f64 = data[..(n / 2) * 2]
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum();
        assert!((sum_of_squares(&m).unwrap() - exact).abs() / exact < 1e-6);
    }
}
