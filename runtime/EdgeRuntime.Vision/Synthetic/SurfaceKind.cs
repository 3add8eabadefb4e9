namespace EdgeRuntime.Vision.Synthetic;

/// <summary>The inspected surface a synthetic scene shows.</summary>
public enum SurfaceKind
{
    /// <summary>Grey metal with directional polishing streaks.</summary>
    BrushedMetal,

    /// <summary>Green solder mask with copper traces, pads and vias (which are not defects).</summary>
    CircuitBoard,

    /// <summary>Periodic woven pattern in any colour.</summary>
    Textile,
}
