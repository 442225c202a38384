// ESLint flat config: typescript-eslint's recommended rules everywhere, plus the
// project's own rule that keeps floating point out of the fixed-point code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import noFloat from "./scripts/eslint/no-float.js";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "build/**", "out/**", "sim-out/**", "codecs/device-repo/**/*.js", "firmware/native/**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["scripts/**/*.{js,mjs}", "test/**/*.{js,mjs}", "*.js"],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["firmware/src/dsp/**/*.ts", "firmware/src/ml/**/*.ts"],
    plugins: { citysense: { rules: { "no-float": noFloat } } },
    rules: { "citysense/no-float": "error" },
  },
);
