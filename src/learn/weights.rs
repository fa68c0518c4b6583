//! A model's weights copied to the CPU backend with asynchronous reads: the only way off a
//! WebGPU device in the browser, where a blocking read is impossible. Evaluation, the latent
//! map and the bundle's weights are then computed on the CPU copy, the same code on every
//! backend.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::Vae;

/// `vae` (inference, no autodiff) with the same weights on the CPU backend.
pub async fn to_cpu(vae: &Vae) -> Result<Vae, String> {
    let mut gather = Gather(Vec::new());
    vae.visit(&mut gather);
    let mut values = Vec::with_capacity(gather.0.len());
    for (tensor, shape) in gather.0 {
        let floats = crate::model::read::floats(tensor)
            .await
            .map_err(|e| format!("could not copy the weights: {e}"))?;
        values.push((floats, shape));
    }
    let cpu = Device::flex();
    let mut place = Place {
        values: values.into_iter(),
        device: cpu.clone(),
        missing: false,
    };
    let copy = vae.clone().map(&mut place);
    if place.missing || place.values.next().is_some() {
        return Err("the model's weights changed shape while being copied".into());
    }
    Ok(copy.to_device(&cpu))
}

/// Every float parameter, flattened, with its shape, in the module's order.
struct Gather(Vec<(Tensor<1>, Vec<usize>)>);

impl ModuleVisitor for Gather {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        self.0.push((tensor.flatten(0, D - 1), shape));
    }
}

/// Puts the gathered values back, in the same order, as CPU tensors.
struct Place {
    values: std::vec::IntoIter<(Vec<f32>, Vec<usize>)>,
    device: Device,
    missing: bool,
}

impl ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some((values, shape)) = self.values.next() else {
            self.missing = true;
            return param;
        };
        let device = self.device.clone();
        param.map(move |_| Tensor::from_data(TensorData::new(values, shape), &device))
    }
}
