/** Jest runs the TypeScript sources directly (ts-jest, transpile only: `npm run typecheck` is the type gate). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^m3vit-gen$': '<rootDir>/generator/api.ts',
  },
  // Measured figures go into one summary at the end, not console.log blocks (test/helpers/figures.ts).
  globalSetup: '<rootDir>/test/helpers/figures-setup.js',
  globalTeardown: '<rootDir>/test/helpers/figures-teardown.js',
  // csim tests compile C++; give them room on a 2-core machine.
  testTimeout: 600000,
};
