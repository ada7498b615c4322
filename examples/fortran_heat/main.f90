! A 1-D heat equation u_t = nu u_xx (periodic, 32 points, explicit Euler) that
! trains a phantom-parallel surrogate of its own time step online: each rank
! evolves 8 states of its own, the ranks gather every pair (u^n, u^{n+1}) into
! one batch (the C API wants the same batch on every rank), and the surrogate
! learns u^n -> u^{n+1}. Fresh random states every 25 steps keep the data
! varied (heat flattens everything). Prints the surrogate's error falling;
! exits 0 when its loss fell at least 4x.
!
!   mpiexec -n 2 fortran_heat deck.toml [steps]
program fortran_heat
  use, intrinsic :: iso_c_binding, only: c_double, c_int64_t
  use mpi
  use phantom
  implicit none
  integer, parameter :: n = 32, local = 8
  real(c_double), parameter :: nu = 0.2d0, pi = 3.141592653589793d0
  type(phantom_model_t) :: model
  type(phantom_stats_t) :: stats
  real(c_double), allocatable :: u(:, :), x(:, :), y(:, :), pred(:, :)
  real(c_double) :: loss, first, last, window
  integer :: ierr, rank, ranks, step, steps, batch, argc
  character(len=256) :: deck, arg

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, ranks, ierr)
  argc = command_argument_count()
  deck = "deck.toml"
  if (argc >= 1) call get_command_argument(1, deck)
  steps = 500
  if (argc >= 2) then
    call get_command_argument(2, arg)
    read (arg, *) steps
  end if

  if (phantom_create(model, deck, MPI_COMM_WORLD) /= PHANTOM_OK) call fail("phantom_create")
  batch = local * ranks
  allocate (u(n, local), x(n, batch), y(n, batch), pred(n, batch))
  first = 0
  last = 0
  window = 0
  do step = 1, steps
    if (mod(step - 1, 25) == 0) call random_states(u, rank, step)
    ! Every rank's inputs, then every rank's next states, in rank order.
    call MPI_Allgather(u, n * local, MPI_DOUBLE_PRECISION, x, n * local, MPI_DOUBLE_PRECISION, &
                       MPI_COMM_WORLD, ierr)
    call heat_step(u)
    call MPI_Allgather(u, n * local, MPI_DOUBLE_PRECISION, y, n * local, MPI_DOUBLE_PRECISION, &
                       MPI_COMM_WORLD, ierr)
    if (phantom_train_step(model, x, y, loss) /= PHANTOM_OK) call fail("phantom_train_step")
    window = window + loss
    if (mod(step, 50) == 0) then
      if (first == 0) first = window / 50
      last = window / 50
      if (rank == 0) print '(a,i5,a,es10.3)', "step ", step, "  surrogate loss ", last
      window = 0
    end if
  end do

  ! The surrogate against the solver on states it has not seen.
  call random_states(u, rank + 1000, 1)
  call MPI_Allgather(u, n * local, MPI_DOUBLE_PRECISION, x, n * local, MPI_DOUBLE_PRECISION, &
                     MPI_COMM_WORLD, ierr)
  call heat_step(u)
  call MPI_Allgather(u, n * local, MPI_DOUBLE_PRECISION, y, n * local, MPI_DOUBLE_PRECISION, &
                     MPI_COMM_WORLD, ierr)
  if (phantom_predict(model, x, pred) /= PHANTOM_OK) call fail("phantom_predict")
  if (phantom_get_stats(model, stats) /= PHANTOM_OK) call fail("phantom_get_stats")
  if (rank == 0) then
    print '(a,es10.3)', "held-out max |surrogate - solver| ", maxval(abs(pred - y))
    print '(i0,a,i0,a,f8.3,a)', stats%step, " steps, ", stats%parameters, " parameters, ", &
      stats%energy_j, " J (modelled)"
    print '(a,es10.3,a,es10.3,a,f6.1,a)', "loss ", first, " -> ", last, " (", first / last, "x)"
  end if
  if (phantom_destroy(model) /= PHANTOM_OK) call fail("phantom_destroy")
  if (phantom_finalize() /= PHANTOM_OK) call fail("phantom_finalize")
  call MPI_Finalize(ierr)
  if (first < 4 * last) stop 1

contains

  ! Smooth random states: a few Fourier modes with random amplitudes.
  subroutine random_states(v, seed, salt)
    real(c_double), intent(out) :: v(:, :)
    integer, intent(in) :: seed, salt
    integer :: j, i, m
    real(c_double) :: a(3), b(3), s
    s = modulo(sin(real(seed * 7919 + salt * 104729, c_double)) * 43758.5453d0, 1d0)
    do j = 1, size(v, 2)
      do m = 1, 3
        s = modulo(s * 9301d0 + 0.49297d0, 1d0)
        a(m) = 2 * s - 1
        s = modulo(s * 9301d0 + 0.49297d0, 1d0)
        b(m) = 2 * s - 1
      end do
      do i = 1, n
        v(i, j) = 0.5d0 * sum([(a(m) * sin(2 * pi * m * (i - 1) / n) + b(m) * cos(2 * pi * m * (i - 1) / n), &
                               m = 1, 3)])
      end do
    end do
  end subroutine

  ! u <- u + nu (u_{i-1} - 2 u_i + u_{i+1}), periodic.
  subroutine heat_step(v)
    real(c_double), intent(inout) :: v(:, :)
    v = v + nu * (cshift(v, -1, 1) - 2 * v + cshift(v, 1, 1))
  end subroutine

  subroutine fail(what)
    character(len=*), intent(in) :: what
    print '(a,a,a,a)', "fortran_heat: ", what, " failed: ", phantom_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
  end subroutine

end program
