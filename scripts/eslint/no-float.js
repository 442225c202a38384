// ESLint rule `no-float`: fixed-point code (firmware/src/dsp, firmware/src/ml) must
// stay in int32 arithmetic, because XS on the ESP32 has no double-precision FPU and
// a float that slips onto the sample path is slow and silently inexact.
const ALLOWED_MATH = new Set(["imul", "clz32", "abs", "min", "max"]);
const FLOAT_GLOBALS = new Set(["parseFloat", "Float32Array", "Float64Array"]);

/** @type {import("eslint").Rule.RuleModule} */
export default {
  meta: {
    type: "problem",
    docs: { description: "disallow floating-point operations in fixed-point code" },
    schema: [],
    messages: {
      literal: "Non-integer literal {{raw}}: use a documented Q-format integer instead.",
      divide: "Division '{{op}}' yields a float: use a shift, a reciprocal multiply or an integer routine.",
      power: "'**' yields a float: use shifts or a multiply.",
      math: "Math.{{name}} is floating point: only Math.imul, clz32, abs, min and max are allowed.",
      global: "{{name}} is floating point.",
      method: ".{{name}}() is a float formatting method.",
    },
  },
  create(context) {
    return {
      Literal(node) {
        if (typeof node.value === "number" && !Number.isInteger(node.value)) {
          context.report({ node, messageId: "literal", data: { raw: node.raw } });
        }
      },
      BinaryExpression(node) {
        if (node.operator === "/") context.report({ node, messageId: "divide", data: { op: "/" } });
        if (node.operator === "**") context.report({ node, messageId: "power" });
      },
      AssignmentExpression(node) {
        if (node.operator === "/=") context.report({ node, messageId: "divide", data: { op: "/=" } });
        if (node.operator === "**=") context.report({ node, messageId: "power" });
      },
      MemberExpression(node) {
        if (node.object.type === "Identifier" && node.object.name === "Math" && !node.computed &&
            node.property.type === "Identifier" && !ALLOWED_MATH.has(node.property.name)) {
          context.report({ node, messageId: "math", data: { name: node.property.name } });
        }
        if (!node.computed && node.property.type === "Identifier" &&
            (node.property.name === "toFixed" || node.property.name === "toPrecision")) {
          context.report({ node, messageId: "method", data: { name: node.property.name } });
        }
        if (node.object.type === "Identifier" && node.object.name === "Number" && !node.computed &&
            node.property.type === "Identifier" && node.property.name === "parseFloat") {
          context.report({ node, messageId: "global", data: { name: "Number.parseFloat" } });
        }
      },
      Identifier(node) {
        if (FLOAT_GLOBALS.has(node.name) && node.parent.type !== "MemberExpression") {
          context.report({ node, messageId: "global", data: { name: node.name } });
        }
      },
    };
  },
};
