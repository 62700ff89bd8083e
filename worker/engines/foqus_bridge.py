"""foqus_bridge.py: one long-lived FOQUS process for the worker's foqus engine (foqus.ts).

Started as `FOQUS_PYTHON foqus_bridge.py` in a directory the engine owns (FOQUS makes logs/,
gams/, turbine.cfg, ... in its working directory), with HOME set to a directory the engine owns
(FOQUS writes $HOME/.foqus.cfg) and FOQUS on PYTHONPATH.

Protocol: one JSON object per line, both ways.
- Requests on stdin:
    {"id": N, "op": "load", "path": SESSION}    load a session file (the first time)
    {"id": N, "op": "reset", "path": SESSION}   a new FOQUS session, then load (job Reset: true)
    {"id": N, "op": "run", "input": {NODE: {VAR: value}}, "dir": WORKDIR}
    {"op": "terminate", "id": N}                stop run N (FOQUS stops between nodes)
  EOF on stdin ends the process (at once if a flowsheet is running).
- Replies on the process's original stdout, which carries nothing else: before FOQUS is
  imported, fd 1 is re-pointed at stderr (and fd 0 at the null device), so FOQUS's log, prints
  of node scripts and anything a library writes to fd 1 all go to stderr (the engine keeps a
  bounded tail of it).
    {"event": "ready", "pid": P, "version": V} | {"event": "fatal", "message": M}  at start
    {"id": N, "event": "running"}               run N's flowsheet thread started
    {"id": N, "ok": true, ...} | {"id": N, "ok": false, "errorClass": C, "message": M}
  NaN and infinite floats anywhere in a reply are written as the strings "NaN", "Infinity",
  "-Infinity" (see foqus.ts for why), so every reply is strict JSON.

No carry-over: right after a session is loaded the bridge saves its values (saveValues); every
run first loads those values back (inputs, outputs, status codes), then the job's input, so a
variable the job leaves out has the session file's value, never the previous job's.
"""

import json
import logging
import math
import os
import queue
import sys
import threading
import traceback
from collections import deque

# The protocol channels are private copies of the original stdin and stdout; fd 1 becomes
# stderr and fd 0 the null device, so neither FOQUS nor a node script can touch the protocol.
REQUESTS = os.fdopen(os.dup(0), "r", encoding="utf-8")
PROTOCOL = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
os.dup2(2, 1)
WRITE_LOCK = threading.Lock()


def strict(value):
    """The value with NaN/Infinity as strings and numpy scalars as Python numbers."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return strict(value.item())
    if hasattr(value, "tolist"):  # numpy array
        return strict(value.tolist())
    return str(value)


def send(message):
    line = json.dumps(strict(message), allow_nan=False, separators=(",", ":"))
    with WRITE_LOCK:
        PROTOCOL.write(line + "\n")
        PROTOCOL.flush()


try:
    from foqus_lib.framework.graph.node import NodeEx
    from foqus_lib.framework.session.session import (
        makeWorkingDirFiles,
        makeWorkingDirStruct,
    )
    from foqus_lib.framework.session.session import session as Session
    from foqus_lib.version.version import version as foqus_version
except Exception as error:  # not installed, or a dependency (numpy, scipy, pandas, ...) missing
    send({"event": "fatal", "message": "cannot import FOQUS: {!r}".format(error)})
    sys.exit(2)


class ErrorLog(logging.Handler):
    """Keeps the last FOQUS log records at ERROR and above (a failed node's exception)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = deque(maxlen=10)

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            last = traceback.format_exception_only(record.exc_info[0], record.exc_info[1])
            text = "{}: {}".format(text, "".join(last).strip())
        self.lines.append(text[:500])


ERRORS = ErrorLog()
LOG = logging.getLogger("foqus.bridge")


def quiet_logging():
    """Every Session re-applies FOQUS's log settings: make sure its log goes to stderr only (at
    INFO, not DEBUG) and that ERRORS sees it."""
    for name in ("foqus", "turbine"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.close()
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.handlers = [stream]
        logger.setLevel(logging.INFO)
    logging.getLogger("foqus").addHandler(ERRORS)


def write_settings():
    """FOQUS's own settings file ($HOME/.foqus.cfg, HOME is the engine's): log to the console
    (our stderr) at INFO, never to logs/*.log, which would grow with every session load."""
    path = os.path.join(os.environ.get("APPDATA" if os.name == "nt" else "HOME", "."), ".foqus.cfg")
    settings = {
        "working_dir": os.getcwd(),
        "foqusLogToFile": False,
        "turbLogToFile": False,
        "foqusLogToConsole": True,
        "turbLogToConsole": True,
        "foqusLogLevel": logging.INFO,
        "turbLogLevel": logging.WARNING,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(settings, f)


def node_error_text(code):
    try:
        return NodeEx(code).getCodeString()
    except Exception:
        return "error code {}".format(code)


class Bridge:
    def __init__(self):
        self.home = os.getcwd()
        write_settings()
        makeWorkingDirStruct()
        makeWorkingDirFiles()
        self.dat = self.new_session()
        self.pristine = None  # the loaded session's own values
        self.name = ""
        self.loads = 0
        self.jobs = 0
        self.lock = threading.Lock()
        self.current = None  # (run id, flowsheet thread or None)
        self.terminate_id = None

    def new_session(self):
        os.chdir(self.home)
        dat = Session(useCurrentWorkingDir=True)
        quiet_logging()  # each Session re-applies FOQUS's log settings
        return dat

    # --- load / reset -------------------------------------------------------------------------

    def load(self, request, reset):
        path = request.get("path")
        if reset:
            try:
                self.dat.flowsheet.turbConfig.stopAllConsumers()
                self.dat.flowsheet.turbConfig.closeTurbineLiteDB()
            except Exception:
                LOG.exception("reset: stopping consumers")
            self.dat = self.new_session()
        self.pristine = None
        try:
            self.dat.load(path, stopConsumers=True)
        except Exception as error:
            return {"ok": False, "errorClass": "staging", "message": load_problem(path, error)}
        self.pristine = self.dat.flowsheet.saveValues()
        self.name = self.dat.name or os.path.basename(path)
        self.loads += 1
        LOG.info("loaded session %s (%s)", path, self.name)
        return {"ok": True, "name": self.name, "loads": self.loads}

    # --- run ----------------------------------------------------------------------------------

    def run(self, request):
        if self.pristine is None:
            return {"ok": False, "errorClass": "staging", "message": "no session is loaded"}
        graph = self.dat.flowsheet
        graph.loadValues(self.pristine)  # the session file's own values, never the last job's
        problems = apply_input(graph, request.get("input"))
        if problems:
            message = (
                'The job\'s Input does not fit flowsheet "{}": {}. '
                "Send {{NODE: {{VARIABLE: value}}}} with the flowsheet's input variables."
            ).format(self.name, "; ".join(problems))
            return {"ok": False, "errorClass": "invalid-input", "message": message}
        ERRORS.lines.clear()
        run_id = request.get("id")
        LOG.info("run %s of %s: input %s", run_id, self.name, json.dumps(request.get("input"))[:300])
        os.chdir(request.get("dir") or self.home)
        try:
            thread = graph.runAsThread()
            with self.lock:
                self.current = (run_id, thread)
                if self.terminate_id == run_id:
                    thread.terminate()
            send({"id": run_id, "event": "running"})
            while thread.is_alive():
                thread.join(0.05)  # returns as soon as the thread ends
        finally:
            with self.lock:
                self.current = None
            os.chdir(self.home)
        self.jobs += 1
        if thread.res and isinstance(thread.res[0], dict):
            graph.loadValues(thread.res[0])  # what `foqus --run sim -o OUT` writes, too
        else:
            graph.setErrorCode(19)
            if thread.ex:
                ERRORS.lines.append("".join(traceback.format_exception_only(*thread.ex[:2])).strip())
        output = graph.saveValues()
        code = output.get("graphError")
        failed = {
            name: {"code": c, "text": node_error_text(c)}
            for name, c in output.get("nodeError", {}).items()
            if c not in (0, -1)
        }
        return {
            "ok": True,
            "output": output,
            "graphErrorText": graph.errorLookup(code) if isinstance(code, int) else str(code),
            "nodeErrors": failed,
            "errors": list(ERRORS.lines),
            "loads": self.loads,
            "jobs": self.jobs,
        }

    def terminate(self, run_id):
        """Called on the stdin thread: FOQUS's graph checks the flag before each node."""
        with self.lock:
            self.terminate_id = run_id
            if self.current and self.current[0] == run_id and self.current[1] is not None:
                self.current[1].terminate()


def load_problem(path, error):
    """Why a session file does not load, and what to do about it."""
    detail = "{}: {}".format(type(error).__name__, error)
    try:
        with open(path, "r", encoding="utf-8") as f:
            content = json.load(f)
    except OSError as e:
        return (
            "FOQUS cannot read the session file {}: {}. Stage the simulation's configuration again."
        ).format(path, e.strerror or e)
    except ValueError as e:
        return (
            "The simulation's configuration is not JSON ({}), so not a FOQUS session file. "
            "Save the flowsheet in FOQUS and upload the .foqus file as the configuration."
        ).format(e)
    marker = (content.get("Type") or content.get("filetype")) if isinstance(content, dict) else None
    if marker != "FOQUS_Session":
        return (
            'The simulation\'s configuration is JSON but not a FOQUS session (no "Type": "FOQUS_Session"). '
            "Upload the .foqus file FOQUS saves as the configuration."
        )
    return (
        "FOQUS cannot load the session file ({}). Open it in FOQUS desktop, "
        "fix or re-save the flowsheet, and upload it again."
    ).format(detail)


def apply_input(graph, job_input):
    """Sets the job's input values; returns the problems (unknown names, unusable values)."""
    if job_input is None:
        return []
    if not isinstance(job_input, dict):
        return ["Input must be an object, got {}".format(json.dumps(job_input)[:100])]
    problems = []
    nodes = [n for n in graph.input if n != "graph" or graph.input[n]]
    for node, values in job_input.items():
        if node not in graph.input:
            problems.append('there is no node "{}" (nodes: {})'.format(node, ", ".join(nodes)))
            continue
        if not isinstance(values, dict):
            problems.append('Input["{}"] must be an object of variable values'.format(node))
            continue
        for name, value in values.items():
            variables = graph.input[node]
            if name not in variables:
                if node in graph.output and name in graph.output[node]:
                    problems.append('{}.{} is an output of node {}, not an input'.format(node, name, node))
                else:
                    problems.append(
                        'node {} has no input variable "{}" (inputs: {})'.format(
                            node, name, ", ".join(variables) or "none"
                        )
                    )
                continue
            variable = variables[name]
            kind = getattr(variable.dtype, "__name__", str(variable.dtype))
            if value is None or isinstance(value, (dict, list)):
                problems.append("{}.{} = {} is not a {}".format(node, name, json.dumps(value)[:100], kind))
                continue
            try:
                variable.value = value  # FOQUS converts to the variable's type ("4" -> 4.0)
            except Exception as error:
                shown = json.dumps(value)[:100]
                problems.append("{}.{} = {} is not a {} ({})".format(node, name, shown, kind, error))
    return problems


def main():
    bridge = Bridge()
    requests = queue.Queue()

    def read_stdin():
        for line in REQUESTS:
            try:
                request = json.loads(line)
            except ValueError:
                send({"event": "protocol-error", "message": "not JSON: " + line[:200]})
                continue
            if request.get("op") == "terminate":
                bridge.terminate(request.get("id"))
            else:
                requests.put(request)
        # EOF: the engine closed stdin or is gone. Stop now if a flowsheet is running, else after
        # the requests already read.
        with bridge.lock:
            if bridge.current is not None:
                os._exit(0)
        requests.put(None)

    threading.Thread(target=read_stdin, daemon=True).start()
    send({"event": "ready", "pid": os.getpid(), "version": foqus_version})
    while True:
        request = requests.get()
        if request is None:
            return
        op = request.get("op")
        try:
            if op in ("load", "reset"):
                reply = bridge.load(request, reset=op == "reset")
            elif op == "run":
                reply = bridge.run(request)
            else:
                reply = {"ok": False, "errorClass": "model", "message": "unknown op {!r}".format(op)}
        except Exception:
            LOG.exception("bridge: %s failed", op)
            reply = {"ok": False, "errorClass": "model", "message": traceback.format_exc(limit=5)[-1500:]}
        reply["id"] = request.get("id")
        send(reply)


if __name__ == "__main__":
    main()
