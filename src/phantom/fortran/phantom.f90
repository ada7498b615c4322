! The Fortran module `phantom`: Phantom's C API (phantom/phantom.h) through
! ISO_C_BINDING. A model is a type(phantom_model_t); every procedure is a
! function returning PHANTOM_OK (0) or an error code, with the message in
! phantom_last_error(). Arrays are (features, batch): x(input_dim, batch) and
! y(output_dim, batch), real(c_float) or real(c_double), which is the same
! memory as the C API's rows.
!
!   use mpi
!   use phantom
!   type(phantom_model_t) :: model
!   if (phantom_create(model, "deck.toml", MPI_COMM_WORLD) /= PHANTOM_OK) &
!     print *, phantom_last_error()
!   status = phantom_train_step(model, x, y, loss)
module phantom
  use, intrinsic :: iso_c_binding
  implicit none
  private

  integer, parameter, public :: PHANTOM_OK = 0, PHANTOM_ERR_ARGUMENT = 1, &
    PHANTOM_ERR_DECK = 2, PHANTOM_ERR_CHECKPOINT = 3, PHANTOM_ERR_MPI = 4, &
    PHANTOM_ERR_DEVICE = 5, PHANTOM_ERR_INTERNAL = 6
  integer(c_int), parameter :: c_float_dtype = 0, c_double_dtype = 1

  type, public :: phantom_model_t
    type(c_ptr) :: handle = c_null_ptr
  end type

  type, public, bind(c) :: phantom_stats_t
    integer(c_int64_t) :: step
    real(c_double) :: loss
    integer(c_int64_t) :: parameters
    real(c_double) :: bytes_per_step, bytes_last_step, step_seconds, comm_seconds, energy_j
    integer(c_int) :: energy_measured
  end type

  public :: phantom_create, phantom_train_step, phantom_predict, phantom_save, phantom_load, &
            phantom_get_stats, phantom_destroy, phantom_last_error, phantom_finalize

  interface phantom_train_step
    module procedure train_step_float, train_step_double
  end interface
  interface phantom_predict
    module procedure predict_float, predict_double
  end interface

  interface
    integer(c_int) function c_create(model, deck, comm) bind(c, name="phantom_create_f")
      import :: c_ptr, c_char, c_int
      type(c_ptr), intent(out) :: model
      character(kind=c_char), intent(in) :: deck(*)
      integer(c_int), value :: comm
    end function
    integer(c_int) function c_train_step(model, x, y, batch, dtype, loss) &
        bind(c, name="phantom_train_step")
      import :: c_ptr, c_int, c_int64_t, c_double
      type(c_ptr), value :: model, x, y
      integer(c_int64_t), value :: batch
      integer(c_int), value :: dtype
      real(c_double), intent(out) :: loss
    end function
    integer(c_int) function c_predict(model, x, y, batch, dtype) bind(c, name="phantom_predict")
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model, x, y
      integer(c_int64_t), value :: batch
      integer(c_int), value :: dtype
    end function
    integer(c_int) function c_save(model, path) bind(c, name="phantom_save")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function c_load(model, path, step) bind(c, name="phantom_load")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int64_t), intent(out) :: step
    end function
    integer(c_int) function c_get_stats(model, stats) bind(c, name="phantom_get_stats")
      import :: c_ptr, c_int, phantom_stats_t
      type(c_ptr), value :: model
      type(phantom_stats_t), intent(out) :: stats
    end function
    integer(c_int) function c_destroy(model) bind(c, name="phantom_destroy")
      import :: c_ptr, c_int
      type(c_ptr), value :: model
    end function
    type(c_ptr) function c_last_error() bind(c, name="phantom_last_error")
      import :: c_ptr
    end function
    integer(c_int) function c_finalize() bind(c, name="phantom_finalize")
      import :: c_int
    end function
    integer(c_int) function c_get_dims(model, input_dim, output_dim) bind(c, name="phantom_get_dims")
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), intent(out) :: input_dim, output_dim
    end function
    integer(c_int) function c_argument_error(caller, message) &
        bind(c, name="phantom_internal_argument_error")
      import :: c_char, c_int
      character(kind=c_char), intent(in) :: caller(*), message(*)
    end function
    integer(c_size_t) function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
    end function
  end interface

contains

  ! x must be (input_dim, batch) and y (output_dim, batch), batch >= 1.
  integer function check_shapes(model, caller, x_shape, y_shape)
    type(phantom_model_t), intent(in) :: model
    character(len=*), intent(in) :: caller
    integer, intent(in) :: x_shape(2), y_shape(2)
    integer(c_int64_t) :: n_in, n_out
    character(len=200) :: message
    check_shapes = c_get_dims(model%handle, n_in, n_out)
    if (check_shapes /= PHANTOM_OK) return
    if (x_shape(1) == n_in .and. y_shape(1) == n_out .and. x_shape(2) == y_shape(2)) return
    write (message, '(a,i0,a,i0,a,i0,a,i0,a,i0,a,i0,a)') "x is (", x_shape(1), ", ", x_shape(2), &
      ") and y (", y_shape(1), ", ", y_shape(2), "); the model wants (", n_in, &
      ", batch) and (", n_out, ", batch)"
    check_shapes = c_argument_error(caller // c_null_char, trim(message) // c_null_char)
  end function

  ! comm: an MPI communicator handle from `use mpi` (e.g. MPI_COMM_WORLD).
  integer function phantom_create(model, deck, comm)
    type(phantom_model_t), intent(out) :: model
    character(len=*), intent(in) :: deck
    integer, intent(in) :: comm
    phantom_create = c_create(model%handle, trim(deck) // c_null_char, int(comm, c_int))
  end function

  integer function train_step_float(model, x, y, loss)
    type(phantom_model_t), intent(in) :: model
    real(c_float), intent(in), target, contiguous :: x(:, :), y(:, :)
    real(c_double), intent(out) :: loss
    loss = 0
    train_step_float = check_shapes(model, "phantom_train_step", shape(x), shape(y))
    if (train_step_float /= PHANTOM_OK) return
    train_step_float = c_train_step(model%handle, c_loc(x), c_loc(y), &
                                    int(size(x, 2), c_int64_t), c_float_dtype, loss)
  end function

  integer function train_step_double(model, x, y, loss)
    type(phantom_model_t), intent(in) :: model
    real(c_double), intent(in), target, contiguous :: x(:, :), y(:, :)
    real(c_double), intent(out) :: loss
    loss = 0
    train_step_double = check_shapes(model, "phantom_train_step", shape(x), shape(y))
    if (train_step_double /= PHANTOM_OK) return
    train_step_double = c_train_step(model%handle, c_loc(x), c_loc(y), &
                                     int(size(x, 2), c_int64_t), c_double_dtype, loss)
  end function

  integer function predict_float(model, x, y)
    type(phantom_model_t), intent(in) :: model
    real(c_float), intent(in), target, contiguous :: x(:, :)
    real(c_float), intent(inout), target, contiguous :: y(:, :)
    predict_float = check_shapes(model, "phantom_predict", shape(x), shape(y))
    if (predict_float /= PHANTOM_OK) return
    predict_float = c_predict(model%handle, c_loc(x), c_loc(y), int(size(x, 2), c_int64_t), &
                              c_float_dtype)
  end function

  integer function predict_double(model, x, y)
    type(phantom_model_t), intent(in) :: model
    real(c_double), intent(in), target, contiguous :: x(:, :)
    real(c_double), intent(inout), target, contiguous :: y(:, :)
    predict_double = check_shapes(model, "phantom_predict", shape(x), shape(y))
    if (predict_double /= PHANTOM_OK) return
    predict_double = c_predict(model%handle, c_loc(x), c_loc(y), int(size(x, 2), c_int64_t), &
                               c_double_dtype)
  end function

  integer function phantom_save(model, path)
    type(phantom_model_t), intent(in) :: model
    character(len=*), intent(in) :: path
    phantom_save = c_save(model%handle, trim(path) // c_null_char)
  end function

  integer function phantom_load(model, path, step)
    type(phantom_model_t), intent(in) :: model
    character(len=*), intent(in) :: path
    integer(c_int64_t), intent(out) :: step
    phantom_load = c_load(model%handle, trim(path) // c_null_char, step)
  end function

  integer function phantom_get_stats(model, stats)
    type(phantom_model_t), intent(in) :: model
    type(phantom_stats_t), intent(out) :: stats
    phantom_get_stats = c_get_stats(model%handle, stats)
  end function

  integer function phantom_destroy(model)
    type(phantom_model_t), intent(inout) :: model
    phantom_destroy = c_destroy(model%handle)
    if (phantom_destroy == PHANTOM_OK) model%handle = c_null_ptr
  end function

  ! The calling thread's last error message.
  function phantom_last_error() result(message)
    character(len=:), allocatable :: message
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    p = c_last_error()
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: message)
    do i = 1, n
      message(i:i) = chars(i)
    end do
  end function

  integer function phantom_finalize()
    phantom_finalize = c_finalize()
  end function

end module phantom
