/** The configuration as every sub-command reads it: a bad value ends the command with one line per problem. */
import { ConfigError, loadConfig, type Config } from '../config.js';

export function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`messo: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** A database URL fit for a log line: the password replaced, in the user info and in `?password=`. */
export { redactUrl } from '../store/index.js';
