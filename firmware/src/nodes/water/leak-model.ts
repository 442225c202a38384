/**
 * The water node's model leak detector: the int8 MLP of firmware/src/ml/models/water.ts
 * (normal / leak / burst per 15-minute window; trained by scripts/ml/train/water-model.ts,
 * README of firmware/src/ml) over the codes of dsp/flow-window.ts. Only the leak output is
 * used; bursts stay with the node's threshold rule, which is faster and raises no false
 * alarms (same README).
 *
 * Cost. Every wake is a fresh boot, so the interpreter (arena planning, one view per
 * tensor, one prepared step per operator) is built again in each boot that needs it: the
 * node builds it only in the one wake of fifteen that completes a window. `classify`
 * allocates nothing (the interpreter's `invoke()` does not, and the input and output
 * views are taken once). The model's tables are preloaded (manifest), so they live in
 * flash and cost no RAM and no time at boot.
 */
import { Interpreter } from "../../ml/interpreter.ts";
import model from "../../ml/models/water.ts";
import type { FlowWindowFeatures } from "../../dsp/index.ts";

/** Output classes of the model. */
export const MODEL_NORMAL = 0;
export const MODEL_LEAK = 1;
export const MODEL_BURST = 2;
/** Debounce as trained and scored: leak after this many leak windows in a row (1 h) … */
export const MODEL_RAISE_WINDOWS = 4;
/** … cleared after this many windows in a row without (24 h). */
export const MODEL_CLEAR_WINDOWS = 96;
/** Complete windows of context the model needs (its 24-hour minimum); it was never trained on less. */
export const MODEL_CONTEXT_WINDOWS = 96;

/** The water model behind an allocation-free `classify`. Build one per boot, only when a window completed. */
export class WaterLeakModel {
  readonly #net: Interpreter;
  readonly #input: Int8Array;
  readonly #output: Int8Array;

  constructor() {
    this.#net = new Interpreter(model);
    this.#input = this.#net.input();
    this.#output = this.#net.output();
  }

  /** Bytes of the interpreter's activation arena. */
  get arenaBytes(): number {
    return this.#net.arenaBytes;
  }

  /** Class (MODEL_NORMAL, MODEL_LEAK, MODEL_BURST) of the window whose codes `features` holds; the first of equal scores wins, as in training. */
  classify(features: FlowWindowFeatures): number {
    features.input(this.#input);
    this.#net.invoke();
    const o = this.#output;
    let best = 0;
    for (let i = 1; i < o.length; i++) if (o[i] > o[best]) best = i;
    return best;
  }
}
