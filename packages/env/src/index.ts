/** Placeholder: see README.md for what this package will hold. */
export const PACKAGE_NAME = '@kflow/env';
