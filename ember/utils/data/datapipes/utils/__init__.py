"""torch.utils.data.datapipes.utils: helpers of the DataPipes."""
