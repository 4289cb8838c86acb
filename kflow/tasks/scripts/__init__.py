"""Script tasks (shell and Python), run on this machine with Kestra's Process runner.

One module per task type (``shell_commands``, ``shell_script``, ``python_script``,
``python_commands``) over shared parts: ``base`` (the run), ``files`` (inputFiles,
outputFiles, ``kestra://`` URIs), ``process`` (streamed subprocess), ``protocol`` (the
``::{...}::`` lines), ``runners`` (Process vs Docker) and ``venv`` (cached virtualenvs).
Modules are imported only when a flow uses one of these types.
"""

__all__: list[str] = []
