namespace GenRec.Training;

/// <summary>The phases of one training step, in order (<see cref="Trainer"/> reports the end of each).</summary>
internal enum StepPhase
{
    /// <summary>Tokens, positions, packing and the bias index: the batch on the device.</summary>
    BatchBuilding,

    /// <summary>The encoder's forward pass.</summary>
    EncoderForward,

    /// <summary>The sampled-softmax loss with the item table.</summary>
    LossForward,

    /// <summary>Backward through loss and encoder, and the gradient check.</summary>
    Backward,

    /// <summary>The AdamW update.</summary>
    OptimiserStep,
}
