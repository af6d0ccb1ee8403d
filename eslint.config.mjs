import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'out/',
      'coverage/',
      'src/policy/catalog-data.generated.ts',
      'src/iac/terraform/wasm.generated.ts',
      'src/granted/aws-managed-policies-data.generated.ts'
    ]
  },
  js.configs.recommended,
  {
    // TypeScript in the project: type-checked rules.
    files: ['src/**/*.ts', '__tests__/**/*.ts', 'bench/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } }
  },
  {
    // Scripts outside the TypeScript project, plain JavaScript included: the rules that need no types.
    files: ['**/*.{js,mjs,cjs}', 'scripts/**/*.ts'],
    extends: [...tseslint.configs.recommended]
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  }
)
