namespace EdgeModels.Cli.Evaluation;

/// <summary>An image or mask of the evaluation set cannot be used; the message names the file (or both files).</summary>
internal sealed class EvaluationInputException : Exception
{
    public EvaluationInputException(string message)
        : base(message)
    {
    }

    public EvaluationInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
