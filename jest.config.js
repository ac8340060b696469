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
  // csim tests compile C++; give them room on a 2-core machine.
  testTimeout: 600000,
};
