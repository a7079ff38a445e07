/**
 * Moved: the provider lives beside its class in migration-set.ts. This re-export stays only
 * until test/unit/cloud/migration-retain.test.ts (another branch's file) imports from there;
 * delete it then. The provider registry does not use it.
 */
export { migrationSetProvider, type MigrationSetInputs, type MigrationSetOutputs } from "./migration-set.ts";
