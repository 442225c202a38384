// Reshape: the data does not change, only the shape does.
//
// Source of truth: TFLM tensorflow/lite/micro/kernels/reshape.cc EvalReshapeReference
// (a memcpy unless input and output share the buffer). The interpreter aliases a
// reshape's output to its input in the arena, so this copy runs only when it
// could not.

/** Copies `size` int8 values (no-op when both views are the same memory). Allocation-free. */
export function reshape(input: Int8Array, output: Int8Array, size: number): void {
  if (input.buffer === output.buffer && input.byteOffset === output.byteOffset) return;
  for (let i = 0; i < size; i++) output[i] = input[i];
}
