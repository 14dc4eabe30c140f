import CodeSageCore
import CodeSageService

/// Every tool of the server over one workspace, in the order tools/list shows them.
public enum CodeToolTable {
    /// The table `codesage serve` answers with.
    public static func make(workspace: Workspace, metrics: ToolMetrics = ToolMetrics()) -> ToolTable {
        ToolTable([
            IndexTools.indexCodebase(workspace),
            SearchTools.semanticSearch(workspace),
            SearchTools.search(workspace),
            SearchTools.duplicates(workspace),
            FileTools.readFile(workspace),
            FileTools.fileStructure(workspace),
            FileTools.undocumented(workspace),
            FileTools.countLines(workspace),
            FileTools.dependencies(workspace),
            ServerTools.memory(workspace),
            ServerTools.caches(workspace),
            ServerTools.performance(metrics),
            ConfigurationTools.getConfiguration(workspace.configuration),
            ServerTools.clear(workspace),
            IndexTools.indexStatus(workspace),
        ], metrics: metrics)
    }
}
