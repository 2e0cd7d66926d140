/** The Store contract on SQLite: a fresh database file for every case. */
import { storeContract } from './store-contract/contract.js';
import { freshSqliteStore } from './stores.js';

storeContract('sqlite', (options) => freshSqliteStore(undefined, options));
