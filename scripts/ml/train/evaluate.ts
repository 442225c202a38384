// Judging a trained classifier: the float MLP's and the int8 model's accuracy
// on a dataset, and the int8 model (through the firmware's interpreter) as a
// function of one input window.
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { argmax, predict, type Mlp } from "./mlp.ts";

/** The int8 model's class of a quantized input window (one interpreter, reused). */
export function int8Classifier(module: ModelModule): (q: Int8Array) => number {
  const net = new Interpreter(module);
  return (q) => {
    net.input().set(q);
    net.invoke();
    return argmax(net.output());
  };
}

/** Share of the windows the float MLP classifies right. */
export function floatAccuracy(m: Mlp, d: { x: Float64Array[]; y: number[] }): number {
  return d.x.filter((x, i) => predict(m, x) === d.y[i]).length / d.y.length;
}

/** Share of the quantized windows the int8 model classifies right. */
export function int8Accuracy(module: ModelModule, d: { q: Int8Array[]; y: number[] }): number {
  const classify = int8Classifier(module);
  return d.q.filter((q, i) => classify(q) === d.y[i]).length / d.y.length;
}
