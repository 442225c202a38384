// Prints the measured worst-case error of each property test when
// DSP_ERROR_REPORT is set, so the figures in firmware/src/dsp/README.md can be
// regenerated: DSP_ERROR_REPORT=1 npx mocha 'test/firmware/dsp/**/*.test.ts'

/** Logs the largest absolute error a test measured next to the bound it asserts. */
export function reportMaxError(name: string, measured: number, bound: number | string): void {
  if (process.env.DSP_ERROR_REPORT) {
    console.log(`      [error] ${name}: max |error| = ${measured} (bound ${bound})`);
  }
}
