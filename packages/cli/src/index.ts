export { main, type Command } from './main.js';
export { cliContainer } from './plugins.js';
export { cliErrorCodes, CliUsageError, EXIT_FAILURE, EXIT_USAGE } from './output/errors.js';
export { CLI_VERSION } from './version.js';
