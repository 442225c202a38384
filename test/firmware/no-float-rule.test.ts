import assert from "node:assert/strict";
import { Linter } from "eslint";
import type { Rule } from "eslint";

// The rule is plain JavaScript without declarations, so it is loaded by URL.
const { default: noFloat } = (await import(new URL("../../scripts/eslint/no-float.js", import.meta.url).href)) as { default: Rule.RuleModule };

const config: Linter.Config[] = [{
  languageOptions: { ecmaVersion: 2022, sourceType: "module" },
  plugins: { citysense: { rules: { "no-float": noFloat } } },
  rules: { "citysense/no-float": "error" },
}];

function problems(code: string): string[] {
  return new Linter({ configType: "flat" }).verify(code, config).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe("eslint rule citysense/no-float", () => {
  const flagged = ["a / b", "x ** 2", "0.5", "Math.sqrt(x)", "Math.round(x)", "new Float32Array(4)", "x /= 2", "parseFloat(s)"];
  for (const expr of flagged) {
    it(`reports ${expr}`, () => {
      assert.deepEqual(problems(`let a = 1, b = 2, x = 3, s = "1"; ${expr};`), ["citysense/no-float"]);
    });
  }

  const allowed = ["a >> 1", "Math.imul(a, b)", "Math.min(a,b)", "1e3", "0x10", "a * b | 0"];
  for (const expr of allowed) {
    it(`does not report ${expr}`, () => {
      assert.deepEqual(problems(`let a = 1, b = 2; ${expr};`), []);
    });
  }
});
