"""The registry of task types: which class runs a Kestra type name.

Built-ins and third-party plugins use the same ``kflow.tasks`` entry-point group; classes
are imported only when a flow uses their type, and a plugin that fails to import becomes
one warning naming it (or a :class:`~kflow.errors.PluginError` if a flow uses it). The
interface a plugin implements lives apart, in :mod:`kflow.tasks.base`: a plugin author
never needs to read this module.
"""

from __future__ import annotations

import threading
import warnings

from kflow.errors import PluginError
from kflow.tasks.base import Task

ENTRY_POINT_GROUP = "kflow.tasks"

# The built-in types, by Kestra type name: the same table is declared as entry points in
# pyproject.toml (a test keeps both equal). Looking built-ins up here first avoids scanning
# every installed distribution's metadata on each run.
BUILTINS: dict[str, str] = {
    "io.kestra.plugin.core.debug.Return": "kflow.tasks.core.return_:Return",
    "io.kestra.plugin.core.log.Log": "kflow.tasks.core.log:Log",
    "io.kestra.plugin.core.output.OutputValues": "kflow.tasks.core.output_values:OutputValues",
    "io.kestra.plugin.core.execution.Fail": "kflow.tasks.core.fail:Fail",
    "io.kestra.plugin.core.flow.Sleep": "kflow.tasks.core.sleep:Sleep",
    "io.kestra.plugin.core.flow.Subflow": "kflow.tasks.flow.subflow:Subflow",
    "io.kestra.plugin.core.flow.Sequential": "kflow.tasks.flow.sequential:Sequential",
    "io.kestra.plugin.core.flow.Parallel": "kflow.tasks.flow.parallel:Parallel",
    "io.kestra.plugin.core.flow.ForEach": "kflow.tasks.flow.foreach:ForEach",
    "io.kestra.plugin.core.flow.EachSequential": "kflow.tasks.flow.each_sequential:EachSequential",
    "io.kestra.plugin.core.flow.EachParallel": "kflow.tasks.flow.each_parallel:EachParallel",
    "io.kestra.plugin.core.flow.If": "kflow.tasks.flow.if_:If",
    "io.kestra.plugin.core.flow.AllowFailure": "kflow.tasks.flow.allow_failure:AllowFailure",
    "io.kestra.plugin.core.flow.Switch": "kflow.tasks.flow.switch:Switch",
    "io.kestra.plugin.core.flow.Pause": "kflow.tasks.flow.pause:Pause",
    "io.kestra.plugin.core.execution.Resume": "kflow.tasks.core.resume:Resume",
    "io.kestra.plugin.core.flow.WorkingDirectory": "kflow.tasks.flow.working_directory:WorkingDirectory",
    "io.kestra.plugin.core.flow.LoopUntil": "kflow.tasks.flow.loop_until:LoopUntil",
    "io.kestra.plugin.core.flow.Dag": "kflow.tasks.flow.dag:Dag",
    "io.kestra.plugin.core.flow.ForEachItem": "kflow.tasks.flow.foreach_item:ForEachItem",
    "io.kestra.plugin.core.http.Request": "kflow.tasks.http.request:Request",
    "io.kestra.plugin.core.http.Download": "kflow.tasks.http.download:Download",
    "io.kestra.plugin.jdbc.duckdb.Query": "kflow.tasks.jdbc.duckdb_query:DuckDbQuery",
    "io.kestra.plugin.scripts.shell.Commands": "kflow.tasks.scripts.shell_commands:ShellCommands",
    "io.kestra.plugin.scripts.shell.Script": "kflow.tasks.scripts.shell_script:ShellScript",
    "io.kestra.plugin.scripts.python.Script": "kflow.tasks.scripts.python_script:PythonScript",
    "io.kestra.plugin.scripts.python.Commands": "kflow.tasks.scripts.python_commands:PythonCommands",
    "io.kestra.plugin.core.storage.Write": "kflow.tasks.storage.write:Write",
    "io.kestra.plugin.core.storage.Size": "kflow.tasks.storage.size:Size",
    "io.kestra.plugin.core.storage.Delete": "kflow.tasks.storage.delete:Delete",
    "io.kestra.plugin.core.storage.Concat": "kflow.tasks.storage.concat:Concat",
    "io.kestra.plugin.core.storage.Reverse": "kflow.tasks.storage.reverse:Reverse",
    "io.kestra.plugin.core.storage.Split": "kflow.tasks.storage.split:Split",
    "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles": "kflow.tasks.storage.purge_current_execution_files:PurgeCurrentExecutionFiles",
    "io.kestra.plugin.core.storage.FilterItems": "kflow.tasks.storage.filter_items:FilterItems",
    "io.kestra.plugin.core.storage.DeduplicateItems": "kflow.tasks.storage.deduplicate_items:DeduplicateItems",
    "io.kestra.plugin.core.storage.LocalFiles": "kflow.tasks.storage.local_files:LocalFiles",
    "io.kestra.plugin.serdes.csv.CsvToIon": "kflow.tasks.serdes.csv_to_ion:CsvToIon",
    "io.kestra.plugin.serdes.csv.IonToCsv": "kflow.tasks.serdes.ion_to_csv:IonToCsv",
    "io.kestra.plugin.serdes.json.JsonToIon": "kflow.tasks.serdes.json_to_ion:JsonToIon",
    "io.kestra.plugin.serdes.json.IonToJson": "kflow.tasks.serdes.ion_to_json:IonToJson",
    "io.kestra.plugin.serdes.xml.XmlToIon": "kflow.tasks.serdes.xml_to_ion:XmlToIon",
    "io.kestra.plugin.serdes.xml.IonToXml": "kflow.tasks.serdes.ion_to_xml:IonToXml",
    "io.kestra.plugin.serdes.avro.AvroToIon": "kflow.tasks.serdes.avro_to_ion:AvroToIon",
    "io.kestra.plugin.serdes.avro.IonToAvro": "kflow.tasks.serdes.ion_to_avro:IonToAvro",
    "io.kestra.plugin.serdes.parquet.ParquetToIon": "kflow.tasks.serdes.parquet_to_ion:ParquetToIon",
    "io.kestra.plugin.serdes.parquet.IonToParquet": "kflow.tasks.serdes.ion_to_parquet:IonToParquet",
    "io.kestra.plugin.serdes.excel.ExcelToIon": "kflow.tasks.serdes.excel_to_ion:ExcelToIon",
    "io.kestra.plugin.serdes.excel.IonToExcel": "kflow.tasks.serdes.ion_to_excel:IonToExcel",
    "io.kestra.plugin.compress.ArchiveCompress": "kflow.tasks.compress.archive_compress:ArchiveCompress",
    "io.kestra.plugin.compress.ArchiveDecompress": "kflow.tasks.compress.archive_decompress:ArchiveDecompress",
    "io.kestra.plugin.compress.FileCompress": "kflow.tasks.compress.file_compress:FileCompress",
    "io.kestra.plugin.compress.FileDecompress": "kflow.tasks.compress.file_decompress:FileDecompress",
    "io.kestra.core.tasks.scripts.Bash": "kflow.tasks.scripts.legacy_bash:Bash",
    "io.kestra.core.tasks.scripts.Python": "kflow.tasks.scripts.legacy_python:Python",
    "io.kestra.core.tasks.scripts.Node": "kflow.tasks.scripts.legacy_node:Node",
    "io.kestra.plugin.core.kv.Set": "kflow.tasks.kv.set:Set",
    "io.kestra.plugin.core.kv.Get": "kflow.tasks.kv.get:Get",
    "io.kestra.plugin.core.kv.Delete": "kflow.tasks.kv.delete:Delete",
    "io.kestra.plugin.core.kv.GetKeys": "kflow.tasks.kv.get_keys:GetKeys",
    "io.kestra.plugin.core.kv.PurgeKV": "kflow.tasks.kv.purge_kv:PurgeKV",
    "io.kestra.plugin.core.namespace.UploadFiles": "kflow.tasks.namespace.upload_files:UploadFiles",
    "io.kestra.plugin.core.namespace.DownloadFiles": "kflow.tasks.namespace.download_files:DownloadFiles",
    "io.kestra.plugin.core.namespace.DeleteFiles": "kflow.tasks.namespace.delete_files:DeleteFiles",
    "io.kestra.plugin.core.execution.Assert": "kflow.tasks.core.assert_:Assert",
    "io.kestra.plugin.core.debug.Echo": "kflow.tasks.core.echo:Echo",
    "io.kestra.plugin.core.execution.Labels": "kflow.tasks.core.labels:Labels",
    "io.kestra.plugin.core.execution.Exit": "kflow.tasks.core.exit_:Exit",
    "io.kestra.plugin.core.log.Fetch": "kflow.tasks.core.log_fetch:Fetch",
    "io.kestra.plugin.core.execution.Count": "kflow.tasks.core.count:Count",
    "io.kestra.plugin.core.log.PurgeLogs": "kflow.tasks.core.purge_logs:PurgeLogs",
    "io.kestra.plugin.core.execution.PurgeExecutions": "kflow.tasks.core.purge_executions:PurgeExecutions",
    "io.kestra.plugin.core.flow.Template": "kflow.tasks.core.template:Template",
    "io.kestra.plugin.core.execution.SetVariables": "kflow.tasks.core.set_variables:SetVariables",
    "io.kestra.plugin.core.execution.UnsetVariables": "kflow.tasks.core.unset_variables:UnsetVariables",
    "io.kestra.plugin.core.execution.Kill": "kflow.tasks.core.kill:Kill",
    "io.kestra.plugin.core.kv.Put": "kflow.tasks.kv.put:Put",
    "io.kestra.plugin.core.namespace.PurgeFiles": "kflow.tasks.namespace.purge_files:PurgeFiles",
}

# Kestra's legacy names, mapped to the current type name. The core part is every
# ``@Plugin(aliases=...)`` of a core task in Kestra's source (kestra-io/kestra 58c1ca2d,
# core/src/main/java/io/kestra/plugin/core/**), the classes of the io.kestra.core.tasks
# package before it moved (a31310850^) and the pre-0.10 scripts (1112b9d1b^); a test pins
# it (tests/flow/test_legacy_aliases.py). A name whose current type kflow does not run yet
# is refused as "not supported by kflow", naming both (kflow.flow.validate).
ALIASES: dict[str, str] = {
    "io.kestra.core.tasks.debugs.Echo": "io.kestra.plugin.core.debug.Echo",
    "io.kestra.core.tasks.debugs.Return": "io.kestra.plugin.core.debug.Return",
    "io.kestra.core.tasks.executions.Counts": "io.kestra.plugin.core.execution.Count",
    "io.kestra.core.tasks.executions.Fail": "io.kestra.plugin.core.execution.Fail",
    "io.kestra.core.tasks.executions.Labels": "io.kestra.plugin.core.execution.Labels",
    "io.kestra.core.tasks.executions.Resume": "io.kestra.plugin.core.execution.Resume",
    "io.kestra.core.tasks.flows.AllowFailure": "io.kestra.plugin.core.flow.AllowFailure",
    "io.kestra.core.tasks.flows.Dag": "io.kestra.plugin.core.flow.Dag",
    "io.kestra.core.tasks.flows.EachParallel": "io.kestra.plugin.core.flow.EachParallel",
    "io.kestra.core.tasks.flows.EachSequential": "io.kestra.plugin.core.flow.EachSequential",
    "io.kestra.core.tasks.flows.Flow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.ForEachItem": "io.kestra.plugin.core.flow.ForEachItem",
    "io.kestra.core.tasks.flows.If": "io.kestra.plugin.core.flow.If",
    "io.kestra.core.tasks.flows.Parallel": "io.kestra.plugin.core.flow.Parallel",
    "io.kestra.core.tasks.flows.Pause": "io.kestra.plugin.core.flow.Pause",
    "io.kestra.core.tasks.flows.Sequential": "io.kestra.plugin.core.flow.Sequential",
    "io.kestra.core.tasks.flows.Sleep": "io.kestra.plugin.core.flow.Sleep",
    "io.kestra.core.tasks.flows.Subflow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.Switch": "io.kestra.plugin.core.flow.Switch",
    "io.kestra.core.tasks.flows.Template": "io.kestra.plugin.core.flow.Template",
    "io.kestra.core.tasks.flows.WaitFor": "io.kestra.plugin.core.flow.LoopUntil",
    "io.kestra.plugin.core.flow.WaitFor": "io.kestra.plugin.core.flow.LoopUntil",
    "io.kestra.core.tasks.flows.Worker": "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.core.tasks.flows.WorkingDirectory": "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.core.tasks.log.Fetch": "io.kestra.plugin.core.log.Fetch",
    "io.kestra.core.tasks.log.Log": "io.kestra.plugin.core.log.Log",
    "io.kestra.core.tasks.outputs.OutputValues": "io.kestra.plugin.core.output.OutputValues",
    "io.kestra.core.tasks.states.Delete": "io.kestra.plugin.core.state.Delete",
    "io.kestra.core.tasks.states.Get": "io.kestra.plugin.core.state.Get",
    "io.kestra.core.tasks.states.Set": "io.kestra.plugin.core.state.Set",
    "io.kestra.core.tasks.storages.Concat": "io.kestra.plugin.core.storage.Concat",
    "io.kestra.core.tasks.storages.DeduplicateItems": "io.kestra.plugin.core.storage.DeduplicateItems",
    "io.kestra.core.tasks.storages.Delete": "io.kestra.plugin.core.storage.Delete",
    "io.kestra.core.tasks.storages.FilterItems": "io.kestra.plugin.core.storage.FilterItems",
    "io.kestra.core.tasks.storages.LocalFiles": "io.kestra.plugin.core.storage.LocalFiles",
    "io.kestra.core.tasks.storages.Purge": "io.kestra.plugin.core.execution.PurgeExecutions",
    "io.kestra.plugin.core.storage.Purge": "io.kestra.plugin.core.execution.PurgeExecutions",
    "io.kestra.core.tasks.storages.PurgeCurrentExecutionFiles": "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
    "io.kestra.core.tasks.storages.PurgeExecution": "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
    "io.kestra.plugin.core.storage.PurgeExecution": "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
    "io.kestra.core.tasks.storages.Reverse": "io.kestra.plugin.core.storage.Reverse",
    "io.kestra.core.tasks.storages.Size": "io.kestra.plugin.core.storage.Size",
    "io.kestra.core.tasks.storages.Split": "io.kestra.plugin.core.storage.Split",
    "io.kestra.core.tasks.storages.Write": "io.kestra.plugin.core.storage.Write",
    "io.kestra.core.tasks.templating.TemplatedTask": "io.kestra.plugin.core.templating.TemplatedTask",
    "io.kestra.core.tasks.trigger.Toggle": "io.kestra.plugin.core.trigger.Toggle",
    "io.kestra.plugin.fs.http.Request": "io.kestra.plugin.core.http.Request",
    "io.kestra.plugin.fs.http.Download": "io.kestra.plugin.core.http.Download",
    "io.kestra.plugin.serdes.csv.CsvReader": "io.kestra.plugin.serdes.csv.CsvToIon",
    "io.kestra.plugin.serdes.csv.CsvWriter": "io.kestra.plugin.serdes.csv.IonToCsv",
    "io.kestra.plugin.serdes.json.JsonReader": "io.kestra.plugin.serdes.json.JsonToIon",
    "io.kestra.plugin.serdes.json.JsonWriter": "io.kestra.plugin.serdes.json.IonToJson",
    "io.kestra.plugin.serdes.xml.XmlReader": "io.kestra.plugin.serdes.xml.XmlToIon",
    "io.kestra.plugin.serdes.xml.XmlWriter": "io.kestra.plugin.serdes.xml.IonToXml",
    "io.kestra.plugin.serdes.avro.AvroReader": "io.kestra.plugin.serdes.avro.AvroToIon",
    "io.kestra.plugin.serdes.avro.AvroWriter": "io.kestra.plugin.serdes.avro.IonToAvro",
    "io.kestra.plugin.serdes.parquet.ParquetReader": "io.kestra.plugin.serdes.parquet.ParquetToIon",
    "io.kestra.plugin.serdes.parquet.ParquetWriter": "io.kestra.plugin.serdes.parquet.IonToParquet",
    "io.kestra.plugin.serdes.excel.ExcelReader": "io.kestra.plugin.serdes.excel.ExcelToIon",
    "io.kestra.plugin.serdes.excel.ExcelWriter": "io.kestra.plugin.serdes.excel.IonToExcel",
}

# Types Kestra has that kflow knowingly refuses (current names; their legacy names are
# refused too), with the reason given to the user after "... is not supported by kflow: ".
UNSUPPORTED: dict[str, str] = {
    "io.kestra.plugin.core.trigger.Toggle": "kflow runs a flow when you call 'kflow run'; "
    "no trigger fires, so there is none to enable or disable",
    "io.kestra.plugin.core.state.Get": "the state store was deprecated in Kestra 0.18 and "
    "removed in 1.0; use the KV store (io.kestra.plugin.core.kv.Get)",
    "io.kestra.plugin.core.state.Set": "the state store was deprecated in Kestra 0.18 and "
    "removed in 1.0; use the KV store (io.kestra.plugin.core.kv.Set)",
    "io.kestra.plugin.core.state.Delete": "the state store was deprecated in Kestra 0.18 and "
    "removed in 1.0; use the KV store (io.kestra.plugin.core.kv.Delete)",
    "io.kestra.plugin.core.flow.PurgeFlows": "kflow keeps no flows: a flow is the YAML file "
    "you run, so there are no flow revisions or deleted flows to purge",
    "io.kestra.plugin.core.flow.Approval": "kflow has no review dialog or review API to "
    "approve or deny an execution; use io.kestra.plugin.core.flow.Pause and 'kflow resume'",
    "io.kestra.plugin.core.flow.Loop": "kflow does not run Loop's iterations as isolated "
    "sub-executions with its 'outputs', 'fetchType' and 'breakWhen'; use "
    "io.kestra.plugin.core.flow.ForEach",
    "io.kestra.plugin.core.flow.Wait": "Kestra's Wait is neither a runnable nor a flowable "
    "task, so Kestra cannot run it either; use io.kestra.plugin.core.flow.Sleep",
}

_lock = threading.Lock()
_entry_points: dict[str, str] | None = None
_loaded: dict[str, type[Task]] = {}


def _scan_entry_points() -> dict[str, str]:
    """Type name → "module:Class" for every installed ``kflow.tasks`` entry point (once)."""
    global _entry_points
    with _lock:
        if _entry_points is None:
            from importlib.metadata import entry_points

            found: dict[str, str] = {}
            try:
                for ep in entry_points(group=ENTRY_POINT_GROUP):
                    found[ep.name] = ep.value
            except Exception as exc:  # a broken distribution must not stop kflow
                warnings.warn(f"cannot read kflow.tasks entry points: {exc}", stacklevel=2)
            _entry_points = found
        return _entry_points


def canonical_type(name: str) -> str:
    """The current Kestra type name for ``name`` (resolves legacy aliases)."""
    return ALIASES.get(name, name)


def known_types() -> list[str]:
    """Every task type name kflow can run (built-ins, plugins, and the aliases of those)."""
    runnable = set(BUILTINS) | set(_scan_entry_points())
    names = runnable | {alias for alias, target in ALIASES.items() if target in runnable}
    return sorted(names)


def _import(target: str, type_name: str) -> type[Task]:
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except Exception as exc:
        raise PluginError(
            f"task type {type_name} cannot be loaded from {target}: {exc}",
            hint="reinstall the plugin that provides it, or remove the task",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise PluginError(f"{target} (task type {type_name}) is not a kflow Task class")
    return cls


def lookup(name: str) -> type[Task] | None:
    """The class for a task type name or alias, or None when no plugin provides it."""
    type_name = canonical_type(name)
    cls = _loaded.get(type_name)
    if cls is not None:
        return cls
    target = BUILTINS.get(type_name)
    if target is None:
        target = _scan_entry_points().get(type_name) or _scan_entry_points().get(name)
    if target is None:
        return None
    cls = _import(target, type_name)
    _loaded[type_name] = cls
    return cls


def register(cls: type[Task]) -> type[Task]:
    """Register a task class in-process (tests, embedding); entry points are the normal way."""
    _loaded[cls.type] = cls
    for alias in cls.aliases:
        ALIASES[alias] = cls.type
    return cls
