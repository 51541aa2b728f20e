import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", ".data/", ".cache/", "server/db/generated/", "test-results/", "playwright-report/", "next-env.d.ts"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["components/**/*.{ts,tsx}", "app/**/*.tsx"],
    plugins: { "react-hooks": reactHooks },
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "warn" },
  },
  {
    // The domain stays free of the adapters around it (shared/STYLE.md): no Next.js, no React,
    // nothing from app/, components/ or workers/. (Its integration tests may start real workers.)
    files: ["server/**/*.ts"],
    ignores: ["server/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["next", "next/*", "react", "react-dom"], message: "server/ is the domain: no Next.js or React here." },
            { group: ["**/app/**", "**/components/**", "**/workers/**", "@/app/*", "@/components/*", "@/workers/*"], message: "server/ must not import its adapters." },
          ],
        },
      ],
    },
  },
  {
    // Browser code may use the domain's types, never its runtime (it would drag pg into the bundle).
    files: ["components/**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@/server/*", "**/server/**"], message: "components/ may import only types from server/.", allowTypeImports: true }] },
      ],
    },
  },
);
