//! Fusing steps after compilation: hard-swish recognised from its four nodes, and an
//! activation folded into the convolution before it.

use std::collections::HashMap;

use super::graph::Step;
use super::kernels::Act;
use super::ops::{Binary, Op, Operand};

/// Slots read by a step (its inputs and binary operands).
pub(super) fn reads(step: &Step) -> Vec<usize> {
    let mut r = step.inputs.clone();
    if let Op::Binary(_, a, b) = &step.op {
        r.extend([a, b].into_iter().filter_map(|o| if let Operand::Slot(i) = o { Some(*i) } else { None }));
    }
    r
}

fn scalar(o: &Operand, value: f32) -> bool {
    matches!(o, Operand::Const(t) if t.elem_count() == 1 && t.flatten_all().and_then(|t| t.to_vec1::<f32>()).is_ok_and(|v| v[0] == value))
}

/// Recognise hard-swish (Add 3, Clip 0..6, Mul, Div 6) as one step, and fold it (or a Relu)
/// into the convolution that feeds it when nothing else reads the convolution's output.
pub(super) fn fuse_activations(steps: &mut [Step], keep: &[usize]) {
    let count_readers = |steps: &[Step]| {
        let mut n: HashMap<usize, usize> = HashMap::new();
        for s in steps.iter().filter(|s| !matches!(s.op, Op::Fused)) {
            for i in reads(s) {
                *n.entry(i).or_default() += 1;
            }
        }
        n
    };
    let producer = |steps: &[Step], slot: usize| steps.iter().position(|s| !matches!(s.op, Op::Fused) && s.outputs.contains(&slot));
    let readers = count_readers(steps);
    let single = |slot: usize| readers.get(&slot) == Some(&1) && !keep.contains(&slot);
    for d in 0..steps.len() {
        let Op::Binary(Binary::Div, Operand::Slot(m), six) = &steps[d].op else {
            continue;
        };
        let m = *m;
        if !scalar(six, 6.0) || !single(m) {
            continue;
        }
        let Some(mul) = producer(steps, m) else {
            continue;
        };
        let Op::Binary(Binary::Mul, Operand::Slot(p), Operand::Slot(q)) = &steps[mul].op else {
            continue;
        };
        let (p, q) = (*p, *q);
        let find_clip = |c: usize| producer(steps, c).filter(|&k| matches!(steps[k].op, Op::Clip(lo, hi) if lo == 0.0 && hi == 6.0));
        let Some((x, c, clip)) = [(p, q), (q, p)].into_iter().find_map(|(x, c)| find_clip(c).map(|k| (x, c, k))) else {
            continue;
        };
        let a = steps[clip].inputs[0];
        let Some(add) = producer(steps, a) else {
            continue;
        };
        let is_add3 = matches!(&steps[add].op, Op::Binary(Binary::Add, Operand::Slot(s), three) if *s == x && scalar(three, 3.0));
        if is_add3 && single(c) && single(a) {
            for k in [add, clip, mul] {
                steps[k].op = Op::Fused;
            }
            steps[d].op = Op::HardSwish;
            steps[d].inputs = vec![x];
        }
    }
    let readers = count_readers(steps);
    for k in 0..steps.len() {
        let act = match steps[k].op {
            Op::HardSwish => Act::HardSwish,
            Op::Relu => Act::Relu,
            _ => continue,
        };
        let x = steps[k].inputs[0];
        if readers.get(&x) != Some(&1) || keep.contains(&x) {
            continue;
        }
        let Some(conv) = producer(steps, x) else {
            continue;
        };
        if let Op::Conv { act: a @ Act::Identity, .. } = &mut steps[conv].op {
            *a = act;
            steps[conv].outputs = steps[k].outputs.clone();
            steps[k].op = Op::Fused;
        }
    }
}
