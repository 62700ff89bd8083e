/** @module simulations/simulation — what a simulation is: name and staged-file path rules. */
import { ValidationError } from "../errors.ts";

/** A simulation as the API shows it. */
export interface Simulation {
  Name: string;
  Application: string;
  StagedInputs: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._ -]{0,127}$/;

export function assertValidSimulationName(name: string): void {
  if (!NAME.test(name)) {
    throw new ValidationError(
      `Simulation name "${name}" is not valid: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      "name",
    );
  }
}

/** A staged file path: relative, '/'-separated, no '..' and no empty segment. */
export function assertValidInputPath(path: string): void {
  const segments = path.split("/");
  if (path.length > 512 || segments.some((segment) => !PATH_SEGMENT.test(segment) || segment === "..")) {
    throw new ValidationError(
      `Input path "${path}" is not valid: use '/'-separated names of letters, digits, '.', '_', ' ' or '-' (no '..', at most 512 characters).`,
      "path",
    );
  }
}
