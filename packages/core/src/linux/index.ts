export * from './constants.js';
export * from './syscalls.js';
export * from './proc.js';
export { libc, errnoName, lastErrno } from './libc.js';
