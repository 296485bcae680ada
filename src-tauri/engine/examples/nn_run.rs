//! Run an ONNX model on the graph runner for parity work: reads a raw little-endian f32
//! input of the given shape, writes each output as raw f32 beside a JSON line of shapes.
//!
//! cargo run --release -p pagewise-engine --example nn_run -- MODEL.onnx INPUT.f32 1,3,640,480 OUT_PREFIX [RUNS]
//!
//! With RUNS, the graph runs that many times and the time printed is the fastest run's (on a
//! shared machine the others carry its neighbours' noise).

use candle_core::{Device, Tensor};
use pagewise_engine::nn::graph::Graph;

fn main() -> Result<(), String> {
    pagewise_engine::tune_process();
    let args: Vec<String> = std::env::args().collect();
    let (model, input, shape, out, runs) = match &args[..] {
        [_, model, input, shape, out] => (model, input, shape, out, 1),
        [_, model, input, shape, out, runs] => {
            (model, input, shape, out, runs.parse().map_err(|_| format!("bad run count {runs}"))?)
        }
        _ => return Err("usage: nn_run MODEL INPUT.f32 D0,D1,.. OUT_PREFIX [RUNS]".into()),
    };
    let graph = Graph::from_onnx(&std::fs::read(model).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(input).map_err(|e| e.to_string())?;
    let data: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let dims: Vec<usize> =
        shape.split(',').map(|d| d.parse().map_err(|_| format!("bad dimension {d}"))).collect::<Result<_, _>>()?;
    let x = Tensor::from_vec(data, dims, &Device::Cpu).map_err(|e| e.to_string())?;
    let (mut outputs, mut ms) = (Vec::new(), f64::INFINITY);
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        outputs = graph.run(x.clone()).map_err(|e| e.to_string())?;
        ms = ms.min(start.elapsed().as_secs_f64() * 1000.0);
    }
    let mut shapes = Vec::new();
    for (i, o) in outputs.iter().enumerate() {
        let v: Vec<f32> = o.flatten_all().and_then(|t| t.to_vec1()).map_err(|e| e.to_string())?;
        std::fs::write(format!("{out}{i}.f32"), v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>())
            .map_err(|e| e.to_string())?;
        shapes.push(format!("{:?}", o.dims()));
    }
    println!("{{\"ms\": {ms:.1}, \"shapes\": [{}]}}", shapes.join(", "));
    Ok(())
}
