"""What each form does when it is saved: one use case per form, run in one unit of work.

`save()` consumes the draft and calls the form's `confirm` in the same transaction, so a failure
anywhere leaves the draft as it was, and the user can press "Save" again.
"""
