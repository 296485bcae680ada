//! Fusing steps after compilation: hard-swish recognised from its four nodes, GELU from its
//! five, and an activation folded into the convolution before it.

use std::collections::HashMap;

use super::epilogue::Act;
use super::ops::{Binary, Op, Operand, Step};

/// A one-element constant equal to `value` (to float precision).
fn scalar(o: &Operand, value: f32) -> bool {
    matches!(o, Operand::Const(t) if t.elem_count() == 1
        && t.flatten_all().and_then(|t| t.to_vec1::<f32>()).is_ok_and(|v| (v[0] - value).abs() <= 1e-6 * value.abs()))
}

/// The binary step's operands as (slot, constant-or-slot) in either order, where the slot is
/// one of the step's; for commutative operators.
fn slot_and(op: &Op, kind: Binary) -> Vec<(usize, &Operand)> {
    match op {
        Op::Binary(k, a, b) if std::mem::discriminant(k) == std::mem::discriminant(&kind) => {
            let mut v = Vec::new();
            if let Operand::Slot(i) = a {
                v.push((*i, b));
            }
            if let Operand::Slot(i) = b {
                v.push((*i, a));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// GELU as exported: Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5, into one step.
fn fuse_gelu(steps: &mut [Step], keep: &[usize]) {
    let readers = count_readers(steps);
    let single = |slot: usize| readers.get(&slot) == Some(&1) && !keep.contains(&slot);
    for last in 0..steps.len() {
        // Mul(m, 0.5), m = Mul(x, a), a = Add(e, 1), e = Erf(d), d = Div(x, sqrt 2).
        let Some(m) = slot_and(&steps[last].op, Binary::Mul).into_iter().find(|(_, c)| scalar(c, 0.5)).map(|(m, _)| m)
        else {
            continue;
        };
        let Some(mul) = producer(steps, m).filter(|_| single(m)) else { continue };
        let found = slot_and(&steps[mul].op, Binary::Mul).into_iter().find_map(|(a, x)| {
            let Operand::Slot(x) = x else { return None };
            let add = producer(steps, a).filter(|_| single(a))?;
            let e = slot_and(&steps[add].op, Binary::Add).into_iter().find(|(_, c)| scalar(c, 1.0))?.0;
            let erf = producer(steps, e).filter(|&k| single(e) && matches!(steps[k].op, Op::Erf))?;
            let d = steps[erf].inputs[0];
            let div = producer(steps, d).filter(|_| single(d))?;
            let divides_x = matches!(
                &steps[div].op,
                Op::Binary(Binary::Div, Operand::Slot(s), c) if s == x && scalar(c, std::f32::consts::SQRT_2)
            );
            divides_x.then_some((*x, [div, erf, add, mul]))
        });
        if let Some((x, fused)) = found {
            for k in fused {
                steps[k].op = Op::Fused;
            }
            steps[last].op = Op::Gelu;
            steps[last].inputs = vec![x];
        }
    }
}

fn count_readers(steps: &[Step]) -> HashMap<usize, usize> {
    let mut n: HashMap<usize, usize> = HashMap::new();
    for s in steps.iter().filter(|s| !matches!(s.op, Op::Fused)) {
        for i in s.reads() {
            *n.entry(i).or_default() += 1;
        }
    }
    n
}

/// The live step that computes `slot`.
fn producer(steps: &[Step], slot: usize) -> Option<usize> {
    steps.iter().position(|s| !matches!(s.op, Op::Fused) && s.outputs.contains(&slot))
}

/// Recognise hard-swish (Add 3, Clip 0..6, Mul, Div 6) and GELU as one step each, and fold
/// them (or a Relu) into the convolution that feeds them when nothing else reads its output.
pub(super) fn fuse_activations(steps: &mut [Step], keep: &[usize]) {
    fuse_gelu(steps, keep);
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
        let find_clip = |c: usize| {
            producer(steps, c).filter(|&k| matches!(steps[k].op, Op::Clip(lo, hi) if lo == 0.0 && hi == 6.0))
        };
        let Some((x, c, clip)) = [(p, q), (q, p)].into_iter().find_map(|(x, c)| find_clip(c).map(|k| (x, c, k))) else {
            continue;
        };
        let a = steps[clip].inputs[0];
        let Some(add) = producer(steps, a) else {
            continue;
        };
        let is_add3 =
            matches!(&steps[add].op, Op::Binary(Binary::Add, Operand::Slot(s), three) if *s == x && scalar(three, 3.0));
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
            Op::Gelu => Act::Gelu,
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
